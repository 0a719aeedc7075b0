import type {
  CreateListingRequest,
  Listing,
  UpdateListingRequest,
} from "../api/types";

// The fields of an edit that differ from the listing the form was opened on: only those are sent,
// so an edit never puts back values that someone else changed meanwhile.
export function changedFields(
  base: Listing,
  edited: CreateListingRequest,
): UpdateListingRequest {
  const changes: UpdateListingRequest = {};
  if (edited.title !== base.title) changes.title = edited.title;
  if ((edited.description ?? "") !== base.description)
    changes.description = edited.description ?? "";
  if (edited.price_cents !== base.price_cents)
    changes.price_cents = edited.price_cents;
  if (edited.quantity !== base.quantity) changes.quantity = edited.quantity;
  if (edited.category !== base.category) changes.category = edited.category;
  if (edited.condition !== base.condition) changes.condition = edited.condition;
  return changes;
}
