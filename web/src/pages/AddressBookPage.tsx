import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import type { SavedAddress } from "../api/types";
import { AddressForm } from "../components/AddressForm";
import {
  Button,
  PageHeading,
  ProblemNotice,
  QueryGate,
} from "../components/ui";
import { addressLines, formFromAddress, precisionText } from "../lib/addresses";
import { useTitle } from "../lib/useTitle";

const kMaxAddresses = 20;

export function AddressBookPage() {
  useTitle("Address book");
  const addresses = useQuery({
    queryKey: ["addresses"],
    queryFn: api.addresses,
  });
  return (
    <div className="mx-auto max-w-2xl">
      <p className="mb-2 text-sm">
        <Link className="text-indigo-700 underline" to="/settings">
          Settings
        </Link>{" "}
        / Address book
      </p>
      <PageHeading>Address book</PageHeading>
      <QueryGate query={addresses}>
        {(book) => <AddressBook addresses={book} />}
      </QueryGate>
    </div>
  );
}

function AddressBook({ addresses }: { addresses: SavedAddress[] }) {
  const queryClient = useQueryClient();
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<number | null>(null);
  const [saved, setSaved] = useState<SavedAddress | null>(null);
  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: ["addresses"] });
  const done = (address: SavedAddress) => {
    setSaved(address);
    setAdding(false);
    setEditing(null);
    return refresh();
  };
  const makeDefault = useMutation({
    mutationFn: (id: number) => api.updateAddress(id, { is_default: true }),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: number) => api.deleteAddress(id),
    onSuccess: () => {
      setSaved(null);
      return refresh();
    },
  });
  const failed = makeDefault.error ?? remove.error;

  return (
    <div className="space-y-4">
      <p className="text-sm text-slate-600">
        Where your orders can be shipped: {addresses.length} of {kMaxAddresses}{" "}
        addresses. Each is checked when saved and kept as the check wrote it;
        the default is chosen first at checkout.
      </p>
      {failed && <ProblemNotice problem={toProblem(failed)} />}
      {saved && (
        <p
          role="status"
          className="rounded-md bg-green-50 p-3 text-sm text-green-800"
        >
          Saved as: {addressLines(saved).join(", ")}. {precisionText(saved)}.
        </p>
      )}
      {addresses.length === 0 && !adding && (
        <p className="rounded-md border border-dashed border-slate-300 p-8 text-center">
          You have no saved addresses yet.
        </p>
      )}
      <ul className="space-y-3" aria-label="Saved addresses">
        {addresses.map((address) => (
          <li
            key={address.id}
            className="rounded-lg bg-white p-4 shadow-sm"
            aria-label={`${address.recipient_name}, ${address.line1}, ${address.city}`}
          >
            {editing === address.id ? (
              <AddressForm
                title={`Edit the address of ${address.recipient_name}`}
                initial={formFromAddress(address)}
                submitLabel="Save changes"
                keepEmpty
                onSave={(fields) => api.updateAddress(address.id, fields)}
                onSaved={done}
                onCancel={() => setEditing(null)}
              />
            ) : (
              <div className="flex flex-wrap items-start justify-between gap-3">
                <address className="text-sm not-italic">
                  {addressLines(address).map((line) => (
                    <span key={line} className="block">
                      {line}
                    </span>
                  ))}
                  <span className="mt-1 block text-xs text-slate-500">
                    {precisionText(address)}
                  </span>
                </address>
                <div className="flex flex-wrap items-center gap-2">
                  {address.is_default ? (
                    <span className="rounded bg-indigo-100 px-2 py-1 text-xs font-semibold text-indigo-800">
                      Default
                    </span>
                  ) : (
                    <Button
                      variant="secondary"
                      onClick={() => makeDefault.mutate(address.id)}
                      disabled={makeDefault.isPending}
                    >
                      Make default
                    </Button>
                  )}
                  <Button
                    variant="secondary"
                    onClick={() => {
                      setEditing(address.id);
                      setAdding(false);
                    }}
                  >
                    Edit
                  </Button>
                  <Button
                    variant="danger"
                    onClick={() => {
                      if (
                        window.confirm(
                          `Delete the address of ${address.recipient_name}? Orders already placed keep their copy.`,
                        )
                      )
                        remove.mutate(address.id);
                    }}
                    disabled={remove.isPending}
                  >
                    Delete
                  </Button>
                </div>
              </div>
            )}
          </li>
        ))}
      </ul>
      {adding ? (
        <section
          aria-labelledby="new-address-heading"
          className="rounded-lg bg-white p-4 shadow-sm"
        >
          <h2 id="new-address-heading" className="mb-3 text-lg font-semibold">
            New address
          </h2>
          <AddressForm
            title="New address"
            submitLabel="Save address"
            offerDefault={addresses.length > 0}
            onSave={(fields, isDefault) =>
              api.addAddress(
                isDefault ? { ...fields, is_default: true } : fields,
              )
            }
            onSaved={done}
            onCancel={() => setAdding(false)}
          />
        </section>
      ) : (
        addresses.length < kMaxAddresses && (
          <Button
            onClick={() => {
              setAdding(true);
              setEditing(null);
              setSaved(null);
            }}
          >
            Add an address
          </Button>
        )
      )}
    </div>
  );
}
