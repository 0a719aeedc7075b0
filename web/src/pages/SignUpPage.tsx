import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import type { RegisterRequest } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { Field } from "../components/Field";
import { Button, PageHeading, ProblemNotice } from "../components/ui";
import { validateRegistration, type FieldErrors } from "../lib/validation";
import { useTitle } from "../lib/useTitle";
import { safeNext } from "./SignInPage";

export function SignUpPage() {
  useTitle("Sign up");
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [form, setForm] = useState<RegisterRequest>({
    email: "",
    username: "",
    password: "",
    display_name: "",
  });
  const [errors, setErrors] = useState<FieldErrors>({});
  const mutation = useMutation({
    mutationFn: (body: RegisterRequest) => api.register(body),
    onSuccess: (auth) => {
      signIn(auth);
      navigate(safeNext(params.get("next")), { replace: true });
    },
  });
  const problem = mutation.error ? toProblem(mutation.error) : null;
  const fieldError = (name: string) => errors[name] ?? problem?.fields[name];
  const set =
    (name: keyof RegisterRequest) =>
    (event: React.ChangeEvent<HTMLInputElement>) =>
      setForm({ ...form, [name]: event.target.value });

  return (
    <div className="mx-auto max-w-sm">
      <PageHeading>Create an account</PageHeading>
      <form
        noValidate
        className="space-y-4 rounded-lg bg-white p-6 shadow-sm"
        onSubmit={(event) => {
          event.preventDefault();
          const found = validateRegistration(form);
          setErrors(found);
          if (Object.keys(found).length > 0) return;
          const body: RegisterRequest = {
            email: form.email.trim(),
            username: form.username,
            password: form.password,
          };
          if (form.display_name?.trim())
            body.display_name = form.display_name.trim();
          mutation.mutate(body);
        }}
      >
        {problem && Object.keys(problem.fields).length === 0 && (
          <ProblemNotice problem={problem} onRetry={() => mutation.reset()} />
        )}
        <Field
          label="Email"
          type="email"
          autoComplete="email"
          value={form.email}
          onChange={set("email")}
          error={fieldError("email")}
        />
        <Field
          label="Username"
          autoComplete="username"
          value={form.username}
          onChange={set("username")}
          error={fieldError("username")}
          hint="Shown on your listings."
        />
        <Field
          label="Display name (optional)"
          autoComplete="name"
          value={form.display_name}
          onChange={set("display_name")}
          error={fieldError("display_name")}
        />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          value={form.password}
          onChange={set("password")}
          error={fieldError("password")}
          hint="At least 8 characters."
        />
        <Button type="submit" className="w-full" disabled={mutation.isPending}>
          {mutation.isPending ? "Creating…" : "Create account"}
        </Button>
        <p className="text-sm">
          Have an account?{" "}
          <Link className="text-indigo-700 underline" to="/signin">
            Sign in
          </Link>
        </p>
      </form>
    </div>
  );
}
