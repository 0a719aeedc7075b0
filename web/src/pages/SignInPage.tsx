import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { Field } from "../components/Field";
import { Button, PageHeading, ProblemNotice } from "../components/ui";
import { useTitle } from "../lib/useTitle";

// Only a path of this app: never an absolute URL someone put in the link.
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function SignInPage() {
  useTitle("Sign in");
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const mutation = useMutation({
    mutationFn: () => api.login(login.trim(), password),
    onSuccess: (auth) => {
      signIn(auth);
      navigate(safeNext(params.get("next")), { replace: true });
    },
  });
  const problem = mutation.error ? toProblem(mutation.error) : null;

  return (
    <div className="mx-auto max-w-sm">
      <PageHeading>Sign in</PageHeading>
      <form
        className="space-y-4 rounded-lg bg-white p-6 shadow-sm"
        onSubmit={(event) => {
          event.preventDefault();
          mutation.mutate();
        }}
      >
        {problem && (
          <ProblemNotice problem={problem} onRetry={() => mutation.mutate()} />
        )}
        <Field
          label="Username or email"
          autoComplete="username"
          required
          value={login}
          onChange={(e) => setLogin(e.target.value)}
          error={problem?.fields.login}
        />
        <Field
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={problem?.fields.password}
        />
        <Button type="submit" className="w-full" disabled={mutation.isPending}>
          {mutation.isPending ? "Signing in…" : "Sign in"}
        </Button>
        <p className="text-sm">
          New here?{" "}
          <Link
            className="text-indigo-700 underline"
            to={`/signup${params.get("next") ? `?next=${encodeURIComponent(params.get("next")!)}` : ""}`}
          >
            Create an account
          </Link>
        </p>
      </form>
    </div>
  );
}
