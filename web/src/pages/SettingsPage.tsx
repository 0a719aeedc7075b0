import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import type { Me } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { Field } from "../components/Field";
import { Button, PageHeading, ProblemNotice, Skeleton } from "../components/ui";
import { useTitle } from "../lib/useTitle";

export function SettingsPage() {
  useTitle("Settings");
  const { me } = useAuth();
  if (!me) return <Skeleton className="h-64 w-full" />;
  return (
    <div className="mx-auto max-w-xl space-y-8">
      <PageHeading>Settings</PageHeading>
      <ProfileForm me={me} />
      <Section title="Addresses">
        <p className="text-sm text-slate-600">
          Shipping addresses to choose from at checkout, and your default.
        </p>
        <Link
          to="/settings/addresses"
          className="inline-block text-sm font-semibold text-indigo-700 underline"
        >
          Manage your address book
        </Link>
      </Section>
      <PasswordForm />
      <Sessions />
      <DeleteAccount me={me} />
    </div>
  );
}

function Section({
  title,
  children,
}: {
  title: string;
  children: React.ReactNode;
}) {
  const id = `section-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return (
    <section
      aria-labelledby={id}
      className="space-y-4 rounded-lg bg-white p-6 shadow-sm"
    >
      <h2 id={id} className="text-lg font-semibold">
        {title}
      </h2>
      {children}
    </section>
  );
}

function ProfileForm({ me }: { me: Me }) {
  const queryClient = useQueryClient();
  const [displayName, setDisplayName] = useState(me.display_name);
  const [email, setEmail] = useState(me.email);
  const save = useMutation({
    mutationFn: () => {
      const body: { display_name?: string; email?: string } = {};
      if (displayName.trim() !== me.display_name)
        body.display_name = displayName.trim();
      if (email.trim().toLowerCase() !== me.email) body.email = email.trim();
      return api.updateMe(body);
    },
    onSuccess: (updated) => queryClient.setQueryData(["me"], updated),
  });
  const problem = save.error ? toProblem(save.error) : null;
  return (
    <Section title="Profile">
      <form
        noValidate
        className="space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate();
        }}
      >
        {problem && Object.keys(problem.fields).length === 0 && (
          <ProblemNotice problem={problem} />
        )}
        <Field
          label="Display name"
          autoComplete="name"
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
          error={problem?.fields.display_name}
        />
        <Field
          label="Email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={problem?.fields.email}
        />
        <Button type="submit" disabled={save.isPending}>
          Save profile
        </Button>
        {save.isSuccess && (
          <p role="status" className="text-sm text-green-700">
            Profile saved.
          </p>
        )}
      </form>
    </Section>
  );
}

function PasswordForm() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [error, setError] = useState<string>();
  const change = useMutation({
    mutationFn: () => api.changePassword(current, next),
    onSuccess: () => {
      setCurrent("");
      setNext("");
    },
  });
  const problem = change.error ? toProblem(change.error) : null;
  return (
    <Section title="Password">
      <form
        noValidate
        className="space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          const tooShort =
            next.length < 8 ? "At least 8 characters." : undefined;
          setError(tooShort);
          if (!tooShort) change.mutate();
        }}
      >
        {problem && Object.keys(problem.fields).length === 0 && (
          <ProblemNotice problem={problem} />
        )}
        <Field
          label="Current password"
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          error={problem?.fields.current_password}
        />
        <Field
          label="New password"
          type="password"
          autoComplete="new-password"
          value={next}
          onChange={(e) => setNext(e.target.value)}
          error={error ?? problem?.fields.new_password}
        />
        <Button type="submit" disabled={change.isPending}>
          Change password
        </Button>
        {change.isSuccess && (
          <p role="status" className="text-sm text-green-700">
            Password changed. Your other sessions were signed out.
          </p>
        )}
      </form>
    </Section>
  );
}

function Sessions() {
  const { signOut } = useAuth();
  const navigate = useNavigate();
  const everywhere = useMutation({
    mutationFn: () => signOut({ everywhere: true }),
    onSuccess: () => navigate("/signin"),
  });
  return (
    <Section title="Sessions">
      <p className="text-sm text-slate-600">
        Sign out on every device and browser, this one included.
      </p>
      {everywhere.error && (
        <ProblemNotice problem={toProblem(everywhere.error)} />
      )}
      <Button
        variant="secondary"
        onClick={() => everywhere.mutate()}
        disabled={everywhere.isPending}
      >
        Sign out everywhere
      </Button>
    </Section>
  );
}

function DeleteAccount({ me }: { me: Me }) {
  const { signOut } = useAuth();
  const navigate = useNavigate();
  const [typed, setTyped] = useState("");
  const remove = useMutation({
    mutationFn: async () => {
      await api.deleteMe();
      await signOut().catch(() => undefined);
    },
    onSuccess: () => navigate("/"),
  });
  return (
    <Section title="Delete account">
      <p className="text-sm text-slate-600">
        Your account is disabled at once and cannot be used again; your listings
        leave the marketplace. Orders stay on record for the other party.
      </p>
      {remove.error && <ProblemNotice problem={toProblem(remove.error)} />}
      <form
        className="space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          if (typed === me.username) remove.mutate();
        }}
      >
        <Field
          label={`Type your username (${me.username}) to confirm`}
          autoComplete="off"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
        />
        <Button
          type="submit"
          variant="danger"
          disabled={typed !== me.username || remove.isPending}
        >
          Delete my account
        </Button>
      </form>
    </Section>
  );
}
