import type { AddressFields, Precision, SavedAddress } from "../api/types";
import type { AddressForm, FieldErrors } from "./validation";

export const kEmptyAddress: AddressForm = {
  recipient_name: "",
  line1: "",
  line2: "",
  city: "",
  region: "",
  postal_code: "",
  country: "",
  phone: "",
};

export function formFromAddress(saved: SavedAddress): AddressForm {
  return {
    recipient_name: saved.recipient_name,
    line1: saved.line1,
    line2: saved.line2,
    city: saved.city,
    region: saved.region,
    postal_code: saved.postal_code,
    country: saved.country,
    phone: saved.phone,
  };
}

// The form as the API takes it: trimmed, the country upper-case, the phone without spaces or
// punctuation. With `keepEmpty` the optional fields are sent even when blank, so that an edit
// can clear them; otherwise blank ones are left out.
export function addressFields(
  form: AddressForm,
  { keepEmpty = false }: { keepEmpty?: boolean } = {},
): AddressFields {
  const fields: AddressFields = {
    recipient_name: form.recipient_name.trim(),
    line1: form.line1.trim(),
    city: form.city.trim(),
    country: form.country.trim().toUpperCase(),
  };
  const optional = {
    line2: form.line2.trim(),
    region: form.region.trim(),
    postal_code: form.postal_code.trim(),
    phone: form.phone.replace(/[\s()-]/g, ""),
  };
  for (const [name, value] of Object.entries(optional)) {
    if (value || keepEmpty) fields[name as keyof typeof optional] = value;
  }
  return fields;
}

// Subjects for the API's messages, which name a field's problem without naming the field
// ("was not found in US").
const kSubjects: Record<string, string> = {
  recipient_name: "The name",
  line1: "The street address",
  line2: "Address line 2",
  city: "The city",
  region: "The region",
  postal_code: "The postal code",
  country: "The country code",
  phone: "The phone number",
};

export function fieldSentence(field: string, message: string): string {
  const subject = kSubjects[field];
  if (!subject || /^[A-Z]/.test(message)) return message;
  return `${subject} ${message}${/[.!?)]$/.test(message) ? "" : "."}`;
}

// An address check's problems, or a 422's fields, keyed by field and worded as sentences.
export function addressProblems(
  problems: { field: string; message: string }[] | Record<string, string>,
): FieldErrors {
  const entries = Array.isArray(problems)
    ? problems.map((p) => [p.field, p.message] as const)
    : Object.entries(problems);
  const errors: FieldErrors = {};
  for (const [field, message] of entries)
    errors[field] ??= fieldSentence(field, message);
  return errors;
}

export const kPrecisionLabels: Record<Precision, string> = {
  none: "not placed on the map",
  city: "placed to the city",
  postal_code: "placed to the postal code",
  street: "placed to the street",
};

// "Placed to the city (offline check)".
export function precisionText(saved: SavedAddress): string {
  const text = kPrecisionLabels[saved.validation.precision];
  return `${text.charAt(0).toUpperCase()}${text.slice(1)} (${saved.validation.provider} check)`;
}

// The address as lines for a label: name, street, town, country, phone.
export function addressLines(address: AddressForm | SavedAddress): string[] {
  const town = [address.postal_code, address.city, address.region]
    .filter(Boolean)
    .join(" ");
  return [
    address.recipient_name,
    address.line1,
    address.line2,
    town,
    address.country,
    address.phone,
  ].filter(Boolean);
}
