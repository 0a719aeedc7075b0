import type {
  InputHTMLAttributes,
  ReactNode,
  SelectHTMLAttributes,
  TextareaHTMLAttributes,
} from "react";
import { useId } from "react";

// What a form control needs from its field: its id (for the label), whether it is invalid, and
// which message describes it (the error when there is one, else the hint).
export interface ControlProps {
  id: string;
  "aria-invalid"?: true;
  "aria-describedby"?: string;
}

interface FrameProps {
  label: string;
  error?: string;
  hint?: string;
  id?: string;
  className?: string;
  // Rendered below the control, before the messages (e.g. a list of suggestions).
  after?: ReactNode;
  children: (control: ControlProps) => ReactNode;
}

// A label, one control, and the API's (or the form's) message for it right below.
export function FieldFrame({
  label,
  error,
  hint,
  id,
  className,
  after,
  children,
}: FrameProps) {
  const generated = useId();
  const controlId = id ?? generated;
  const describedBy = error
    ? `${controlId}-error`
    : hint
      ? `${controlId}-hint`
      : undefined;
  return (
    <div className={className}>
      <label
        htmlFor={controlId}
        className="block text-sm font-medium text-slate-700"
      >
        {label}
      </label>
      {children({
        id: controlId,
        "aria-invalid": error ? true : undefined,
        "aria-describedby": describedBy,
      })}
      {after}
      {hint && !error && (
        <p id={`${controlId}-hint`} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${controlId}-error`} className="mt-1 text-sm text-red-700">
          {error}
        </p>
      )}
    </div>
  );
}

interface FieldOwnProps {
  label: string;
  error?: string;
  hint?: string;
  after?: ReactNode;
}

const controlClass = (error?: string) =>
  `mt-1 block w-full rounded-md border px-3 py-2 text-base shadow-sm ${
    error ? "border-red-500" : "border-slate-300"
  }`;

export function Field({
  label,
  error,
  hint,
  after,
  id,
  className,
  ...input
}: FieldOwnProps & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <FieldFrame {...{ label, error, hint, after, id, className }}>
      {(control) => (
        <input {...control} className={controlClass(error)} {...input} />
      )}
    </FieldFrame>
  );
}

export function TextArea({
  label,
  error,
  hint,
  id,
  className,
  ...textarea
}: FieldOwnProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return (
    <FieldFrame {...{ label, error, hint, id, className }}>
      {(control) => (
        <textarea {...control} className={controlClass(error)} {...textarea} />
      )}
    </FieldFrame>
  );
}

export function Select({
  label,
  error,
  hint,
  id,
  className,
  children,
  ...select
}: FieldOwnProps & SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <FieldFrame {...{ label, error, hint, id, className }}>
      {(control) => (
        <select
          {...control}
          className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-base"
          {...select}
        >
          {children}
        </select>
      )}
    </FieldFrame>
  );
}
