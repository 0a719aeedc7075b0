import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type DragEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api } from "../api/api";
import { toProblem } from "../api/errors";
import type {
  CategorySlug,
  Condition,
  CreateListingRequest,
  Listing,
} from "../api/types";
import { Field, Select, TextArea } from "../components/Field";
import {
  Button,
  PageHeading,
  ProblemNotice,
  QueryGate,
} from "../components/ui";
import {
  categoryLabel,
  kCategories,
  kConditionLabels,
  parsePrice,
} from "../lib/format";
import { changedFields } from "../lib/listings";
import { useTitle } from "../lib/useTitle";

export function ListingEditorPage() {
  const params = useParams();
  const id = params.id ? Number(params.id) : null;
  useTitle(id ? "Edit listing" : "New listing");
  const listing = useQuery({
    queryKey: ["listing", id],
    queryFn: () => api.listing(id!),
    enabled: id !== null,
  });

  if (id === null) return <DetailsForm />;
  return (
    <QueryGate query={listing}>
      {(data) => (
        <div className="space-y-8">
          <DetailsForm listing={data} />
          <ImagesEditor listing={data} />
        </div>
      )}
    </QueryGate>
  );
}

interface Draft {
  title: string;
  description: string;
  price: string;
  quantity: string;
  category: string;
  condition: string;
}

function DetailsForm({ listing }: { listing?: Listing }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => ({
    title: listing?.title ?? "",
    description: listing?.description ?? "",
    price: listing ? (listing.price_cents / 100).toFixed(2) : "",
    quantity: listing ? String(listing.quantity) : "1",
    category: listing?.category ?? "",
    condition: listing?.condition ?? "",
  }));
  const [errors, setErrors] = useState<Record<string, string>>({});
  // The listing as the form was opened on it (or last saved): what an edit is compared with.
  const [base, setBase] = useState(listing);
  const save = useMutation({
    mutationFn: async (body: CreateListingRequest) => {
      if (!listing || !base) return api.createListing(body);
      const changes = changedFields(base, body);
      if (Object.keys(changes).length === 0) return listing;
      return api.updateListing(listing.id, listing.version, changes);
    },
    // Changed since it was loaded (another tab, another device): load it again; the form keeps
    // what was typed, so saving again applies the fields changed here over the latest version.
    onError: (error) => {
      if (toProblem(error).status === 412) {
        queryClient.invalidateQueries({ queryKey: ["listing", listing?.id] });
      }
    },
    onSuccess: (saved) => {
      setBase(saved);
      queryClient.setQueryData(["listing", saved.id], saved);
      queryClient.invalidateQueries({ queryKey: ["shop"] });
      queryClient.invalidateQueries({ queryKey: ["myListings"] });
      if (!listing) navigate(`/sell/listings/${saved.id}`, { replace: true });
    },
  });
  const toggle = useMutation({
    mutationFn: () =>
      api.setListingActive(listing!.id, listing!.status !== "active"),
    onSuccess: (saved) => {
      queryClient.setQueryData(["listing", saved.id], saved);
      queryClient.invalidateQueries({ queryKey: ["myListings"] });
    },
  });
  const problem = save.error
    ? toProblem(save.error)
    : toggle.error
      ? toProblem(toggle.error)
      : null;
  const fieldError = (name: string) => errors[name] ?? problem?.fields[name];
  const set =
    (name: keyof Draft) =>
    (
      event: React.ChangeEvent<
        HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement
      >,
    ) =>
      setDraft({ ...draft, [name]: event.target.value });

  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    const price = parsePrice(draft.price);
    if (draft.title.trim().length < 3) found.title = "At least 3 characters.";
    if (price === null || price < 1)
      found.price_cents = "Enter a price such as 12 or 12.50.";
    if (!/^\d+$/.test(draft.quantity))
      found.quantity = "A whole number, 0 or more.";
    if (!draft.category) found.category = "Pick a category.";
    if (!draft.condition) found.condition = "Pick a condition.";
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    save.mutate({
      title: draft.title.trim(),
      description: draft.description.trim(),
      price_cents: price!,
      quantity: Number(draft.quantity),
      category: draft.category as CategorySlug,
      condition: draft.condition as Condition,
    });
  };

  return (
    <section>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <PageHeading>{listing ? "Edit listing" : "New listing"}</PageHeading>
        {listing && (
          <div className="mb-4 flex items-center gap-3 text-sm">
            <Link
              className="text-indigo-700 underline"
              to={`/listings/${listing.id}`}
            >
              View as buyers see it
            </Link>
            <Button
              variant="secondary"
              onClick={() => toggle.mutate()}
              disabled={toggle.isPending}
            >
              {listing.status === "active" ? "Deactivate" : "Activate"}
            </Button>
          </div>
        )}
      </div>
      {listing && (
        <p className="mb-3 text-sm text-slate-600" data-testid="stock">
          {listing.status === "active" ? "Active" : "Inactive"} ·{" "}
          {listing.quantity} on hand · {listing.quantity - listing.available}{" "}
          reserved by unpaid orders · {listing.available} available
        </p>
      )}
      <form
        noValidate
        onSubmit={submit}
        className="space-y-4 rounded-lg bg-white p-6 shadow-sm"
      >
        {problem?.status === 412 ? (
          <p
            role="alert"
            className="rounded-md bg-amber-50 p-3 text-sm text-amber-900"
          >
            This listing was changed elsewhere since you opened it. The latest
            version is loaded; save again to apply your changes to it.
          </p>
        ) : (
          problem &&
          Object.keys(problem.fields).length === 0 && (
            <ProblemNotice problem={problem} onRetry={() => save.reset()} />
          )
        )}
        <Field
          label="Title"
          value={draft.title}
          onChange={set("title")}
          error={fieldError("title")}
          maxLength={120}
        />
        <TextArea
          id="description"
          label="Description"
          rows={5}
          maxLength={5000}
          value={draft.description}
          onChange={set("description")}
          error={fieldError("description")}
        />
        <div className="grid gap-4 sm:grid-cols-2">
          <Field
            label="Price (USD)"
            inputMode="decimal"
            value={draft.price}
            onChange={set("price")}
            error={fieldError("price_cents")}
          />
          <Field
            label="Quantity on hand"
            inputMode="numeric"
            value={draft.quantity}
            onChange={set("quantity")}
            error={fieldError("quantity")}
          />
          <Select
            label="Category"
            value={draft.category}
            onChange={set("category")}
            error={fieldError("category")}
          >
            <option value="">Choose…</option>
            {kCategories.map((slug) => (
              <option key={slug} value={slug}>
                {categoryLabel(slug)}
              </option>
            ))}
          </Select>
          <Select
            label="Condition"
            value={draft.condition}
            onChange={set("condition")}
            error={fieldError("condition")}
          >
            <option value="">Choose…</option>
            {Object.entries(kConditionLabels).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </Select>
        </div>
        <Button type="submit" disabled={save.isPending}>
          {save.isPending
            ? "Saving…"
            : listing
              ? "Save changes"
              : "Create listing"}
        </Button>
        {save.isSuccess && listing && (
          <p role="status" className="text-sm text-green-700">
            Saved.
          </p>
        )}
      </form>
    </section>
  );
}

function ImagesEditor({ listing }: { listing: Listing }) {
  const queryClient = useQueryClient();
  const [dragging, setDragging] = useState(false);
  const [uploadProblems, setUploadProblems] = useState<string[]>([]);
  const store = (saved: Listing) =>
    queryClient.setQueryData(["listing", saved.id], saved);
  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: ["listing", listing.id] });
  const upload = useMutation({
    mutationFn: async (files: File[]) => {
      const problems: string[] = [];
      for (const file of files) {
        try {
          store(await api.uploadImage(listing.id, file));
        } catch (error) {
          problems.push(`${file.name}: ${toProblem(error).message}`);
        }
      }
      setUploadProblems(problems);
    },
  });
  const setMain = useMutation({
    mutationFn: (imageId: number) => api.setMainImage(listing.id, imageId),
    onSuccess: store,
  });
  const move = useMutation({
    mutationFn: async ({ index, by }: { index: number; by: number }) => {
      const ids = listing.images.map((image) => image.id);
      const [moved] = ids.splice(index, 1);
      ids.splice(index + by, 0, moved!);
      await api.reorderImages(listing.id, ids);
    },
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (imageId: number) => api.deleteImage(listing.id, imageId),
    onSuccess: refresh,
  });
  const problem = [setMain, move, remove].map((m) => m.error).find(Boolean);
  const room = 10 - listing.images.length;

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const files = Array.from(event.dataTransfer.files).slice(0, room);
    if (files.length) upload.mutate(files);
  };

  return (
    <section
      aria-labelledby="photos-heading"
      className="rounded-lg bg-white p-6 shadow-sm"
    >
      <h2 id="photos-heading" className="text-lg font-semibold">
        Photos ({listing.images.length}/10)
      </h2>
      {problem && <ProblemNotice problem={toProblem(problem)} />}
      <ul className="mt-3 grid grid-cols-2 gap-3 sm:grid-cols-4">
        {listing.images.map((image, index) => (
          <li key={image.id} className="rounded-md border border-slate-200 p-2">
            <img
              src={image.urls.small}
              alt={`Photo ${index + 1}${image.is_main ? " (main)" : ""}`}
              className="aspect-square w-full rounded object-cover"
            />
            <div className="mt-2 flex flex-wrap gap-1 text-xs">
              {image.is_main ? (
                <span className="rounded bg-indigo-100 px-2 py-1 font-semibold text-indigo-800">
                  Main photo
                </span>
              ) : (
                <button
                  type="button"
                  className="rounded border px-2 py-1"
                  onClick={() => setMain.mutate(image.id)}
                >
                  Make main
                </button>
              )}
              <button
                type="button"
                className="rounded border px-2 py-1 disabled:opacity-40"
                aria-label={`Move photo ${index + 1} earlier`}
                disabled={index === 0}
                onClick={() => move.mutate({ index, by: -1 })}
              >
                ←
              </button>
              <button
                type="button"
                className="rounded border px-2 py-1 disabled:opacity-40"
                aria-label={`Move photo ${index + 1} later`}
                disabled={index === listing.images.length - 1}
                onClick={() => move.mutate({ index, by: 1 })}
              >
                →
              </button>
              <button
                type="button"
                className="rounded border px-2 py-1 text-red-700"
                aria-label={`Delete photo ${index + 1}`}
                onClick={() => remove.mutate(image.id)}
              >
                Delete
              </button>
            </div>
          </li>
        ))}
      </ul>
      {room > 0 && (
        <div
          onDragOver={(event) => {
            event.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          className={`mt-4 rounded-lg border-2 border-dashed p-6 text-center ${dragging ? "border-indigo-500 bg-indigo-50" : "border-slate-300"}`}
        >
          <p className="text-sm text-slate-600">
            Drop JPEG, PNG or WebP photos here (up to 8 MB each), or
          </p>
          <label className="mt-2 inline-block cursor-pointer rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white focus-within:ring-2">
            Choose photos
            <input
              type="file"
              accept="image/jpeg,image/png,image/webp"
              multiple
              className="sr-only"
              onChange={(event) => {
                const files = Array.from(event.target.files ?? []).slice(
                  0,
                  room,
                );
                event.target.value = "";
                if (files.length) upload.mutate(files);
              }}
            />
          </label>
          {upload.isPending && (
            <p role="status" className="mt-2 text-sm">
              Uploading…
            </p>
          )}
        </div>
      )}
      {uploadProblems.length > 0 && (
        <ul role="alert" className="mt-2 text-sm text-red-700">
          {uploadProblems.map((text) => (
            <li key={text}>{text}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
