import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import type {
  AddressFields,
  PlaceSuggestion,
  SavedAddress,
} from "../api/types";
import {
  addressFields,
  addressProblems,
  kEmptyAddress,
} from "../lib/addresses";
import { newIdempotencyKey } from "../lib/ids";
import {
  validateAddress,
  type AddressForm as AddressDraft,
  type FieldErrors,
} from "../lib/validation";
import { Field } from "./Field";
import { Button, ProblemNotice } from "./ui";

// The geocoder found problems: nothing was saved.
class AddressRejected extends Error {
  constructor(readonly errors: FieldErrors) {
    super("The address has problems.");
  }
}

interface AddressFormProps {
  initial?: AddressDraft;
  // Names the form for assistive technology, e.g. "New address".
  title: string;
  submitLabel: string;
  // Stores the address once the geocoder accepted it (add or update).
  onSave: (
    fields: AddressFields,
    makeDefault: boolean,
  ) => Promise<SavedAddress>;
  onSaved?: (saved: SavedAddress) => void;
  onCancel?: () => void;
  // Offer "make this my default address".
  offerDefault?: boolean;
  // Send blank optional fields too (an edit clears them).
  keepEmpty?: boolean;
}

// An address, checked by the geocoder (POST /geo/validate) before it is saved, with city
// suggestions while typing; every problem is shown at its field.
export function AddressForm({
  initial = kEmptyAddress,
  title,
  submitLabel,
  onSave,
  onSaved,
  onCancel,
  offerDefault = false,
  keepEmpty = false,
}: AddressFormProps) {
  const [form, setForm] = useState<AddressDraft>(initial);
  const [makeDefault, setMakeDefault] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const save = useMutation({
    mutationFn: async () => {
      const check = await api.validateAddress(addressFields(form));
      if (!check.valid)
        throw new AddressRejected(addressProblems(check.problems));
      return onSave(addressFields(form, { keepEmpty }), makeDefault);
    },
    onError: (error) =>
      setErrors(
        error instanceof AddressRejected
          ? error.errors
          : addressProblems(toProblem(error).fields),
      ),
    onSuccess: onSaved,
  });
  const problem =
    save.error && !(save.error instanceof AddressRejected)
      ? toProblem(save.error)
      : null;
  // A problem that no field of the form shows (the book is full, the server is unreachable).
  const unplaced =
    problem &&
    !Object.keys(problem.fields).some((field) => field in kEmptyAddress);

  const update = (changes: Partial<AddressDraft>) => {
    setForm((current) => ({ ...current, ...changes }));
    setErrors((current) => {
      const rest = { ...current };
      for (const name of Object.keys(changes)) delete rest[name];
      return rest;
    });
  };
  // A text field's value, its changes and its message.
  const bind = (name: keyof AddressDraft) => ({
    value: form[name],
    onChange: (event: React.ChangeEvent<HTMLInputElement>) =>
      update({ [name]: event.target.value }),
    error: errors[name],
  });

  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    const found = validateAddress(form);
    setErrors(found);
    if (Object.keys(found).length === 0 && !save.isPending) save.mutate();
  };

  return (
    <form noValidate onSubmit={submit} aria-label={title} className="space-y-4">
      {problem && unplaced && (
        <ProblemNotice problem={problem} onRetry={() => save.mutate()} />
      )}
      <Field
        label="Full name"
        autoComplete="name"
        {...bind("recipient_name")}
      />
      <Field
        label="Address line 1"
        autoComplete="address-line1"
        {...bind("line1")}
      />
      <Field
        label="Address line 2 (optional)"
        autoComplete="address-line2"
        {...bind("line2")}
      />
      <div className="grid gap-4 sm:grid-cols-2">
        <Field
          label="Country code"
          autoComplete="country"
          maxLength={2}
          placeholder="US"
          {...bind("country")}
          hint="Two letters: city suggestions follow it."
        />
        <CityField
          value={form.city}
          country={form.country}
          error={errors.city}
          onChange={(city) => update({ city })}
          onPick={(place) =>
            update({
              city: place.city,
              country: place.country,
              ...(place.region ? { region: place.region } : {}),
              ...(place.postal_code ? { postal_code: place.postal_code } : {}),
            })
          }
        />
        <Field
          label="Region (optional)"
          autoComplete="address-level1"
          {...bind("region")}
        />
        <Field
          label="Postal code (optional)"
          autoComplete="postal-code"
          {...bind("postal_code")}
        />
      </div>
      <Field
        label="Phone (optional)"
        type="tel"
        autoComplete="tel"
        placeholder="+14155550123"
        {...bind("phone")}
      />
      {offerDefault && (
        <label className="flex items-center gap-2 text-sm">
          <input
            type="checkbox"
            checked={makeDefault}
            onChange={(event) => setMakeDefault(event.target.checked)}
          />
          Make this my default address
        </label>
      )}
      <div className="flex flex-wrap gap-2">
        <Button type="submit" disabled={save.isPending}>
          {save.isPending ? "Checking the address…" : submitLabel}
        </Button>
        {onCancel && (
          <Button variant="secondary" onClick={onCancel}>
            Cancel
          </Button>
        )}
      </div>
    </form>
  );
}

const kSuggestDelayMs = 250;
const kMinQueryLength = 2;

// The city as a combobox (ARIA 1.2 pattern with a listbox popup): suggestions from
// GET /geo/suggest for what was typed, debounced, in the country when one is given; arrow keys
// move through them, Enter picks one, Escape closes the list.
function CityField({
  value,
  country,
  error,
  onChange,
  onPick,
}: {
  value: string;
  country: string;
  error?: string;
  onChange: (city: string) => void;
  onPick: (place: PlaceSuggestion) => void;
}) {
  const listId = useId();
  // One session per form: Google bills a form's suggestions together.
  const [session] = useState(newIdempotencyKey);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [query, setQuery] = useState(value.trim());
  useEffect(() => {
    const timer = setTimeout(() => setQuery(value.trim()), kSuggestDelayMs);
    return () => clearTimeout(timer);
  }, [value]);
  const code = /^[A-Za-z]{2}$/.test(country.trim())
    ? country.trim().toUpperCase()
    : undefined;
  const suggestions = useQuery({
    queryKey: ["suggest", query, code],
    queryFn: ({ signal }) => api.suggestPlaces(query, code, session, signal),
    enabled: open && query.length >= kMinQueryLength,
    staleTime: 5 * 60_000,
    placeholderData: (previous) => previous,
  });
  const items =
    open && query.length >= kMinQueryLength ? (suggestions.data ?? []) : [];
  const expanded = items.length > 0;
  const optionId = (index: number) => `${listId}-option-${index}`;

  const pick = (place: PlaceSuggestion) => {
    onPick(place);
    setOpen(false);
    setActive(-1);
  };
  const onKeyDown = (event: React.KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) setOpen(true);
      if (items.length === 0) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((current) =>
        current < 0 && step < 0
          ? items.length - 1
          : (current + step + items.length) % items.length,
      );
    } else if (event.key === "Enter" && expanded && active >= 0) {
      event.preventDefault();
      pick(items[active]!);
    } else if (event.key === "Escape" && expanded) {
      event.preventDefault();
      setOpen(false);
      setActive(-1);
    }
  };

  return (
    <Field
      label="City"
      autoComplete="address-level2"
      role="combobox"
      aria-autocomplete="list"
      aria-expanded={expanded}
      aria-controls={listId}
      aria-activedescendant={
        expanded && active >= 0 ? optionId(active) : undefined
      }
      value={value}
      onChange={(event) => {
        onChange(event.target.value);
        setOpen(true);
        setActive(-1);
      }}
      onKeyDown={onKeyDown}
      onBlur={() => setOpen(false)}
      error={error}
      className="relative"
      after={
        <>
          <ul
            id={listId}
            role="listbox"
            aria-label="Suggested places"
            hidden={!expanded}
            className="absolute z-10 mt-1 max-h-64 w-full overflow-auto rounded-md border border-slate-200 bg-white py-1 text-sm shadow-lg"
          >
            {items.map((place, index) => (
              <li
                key={place.place_id}
                id={optionId(index)}
                role="option"
                aria-selected={index === active}
                // Keeps the focus in the input, so that blurring does not close the list first.
                onMouseDown={(event) => event.preventDefault()}
                onClick={() => pick(place)}
                className={`cursor-pointer px-3 py-2 ${index === active ? "bg-indigo-600 text-white" : "hover:bg-slate-100"}`}
              >
                {place.description}
              </li>
            ))}
          </ul>
          <p role="status" className="sr-only">
            {expanded
              ? `${items.length} suggestion${items.length === 1 ? "" : "s"}: arrow keys to choose, Enter to pick.`
              : ""}
          </p>
        </>
      }
    />
  );
}
