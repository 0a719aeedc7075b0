import type { RegisterRequest } from "../api/types";

export type FieldErrors = Record<string, string>;

// The registration rules the API states, checked before sending so that the obvious mistakes
// are named at once; the server still has the last word (taken names, common passwords).
export function validateRegistration(form: RegisterRequest): FieldErrors {
  const errors: FieldErrors = {};
  const email = form.email.trim();
  if (!email) errors.email = "Enter your email address.";
  else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254)
    errors.email = "Enter a valid email address.";
  if (!/^[A-Za-z0-9_.-]{3,30}$/.test(form.username)) {
    errors.username = "3 to 30 letters, digits, dots, dashes or underscores.";
  }
  if (form.password.length < 8) errors.password = "At least 8 characters.";
  else if (form.password.length > 128)
    errors.password = "At most 128 characters.";
  else if (form.password.toLowerCase() === form.username.toLowerCase())
    errors.password = "Must differ from your username.";
  if (form.display_name !== undefined && form.display_name.trim().length > 80) {
    errors.display_name = "At most 80 characters.";
  }
  return errors;
}

export interface AddressForm {
  recipient_name: string;
  line1: string;
  line2: string;
  city: string;
  region: string;
  postal_code: string;
  country: string;
  phone: string;
}

// The address rules the API states, keyed as the address book names the fields.
export function validateAddress(address: AddressForm): FieldErrors {
  const errors: FieldErrors = {};
  const required: [keyof AddressForm, string][] = [
    ["recipient_name", "Enter the recipient's name."],
    ["line1", "Enter the street address."],
    ["city", "Enter the city."],
  ];
  for (const [field, message] of required) {
    if (!address[field].trim()) errors[field] = message;
  }
  if (!/^[A-Za-z]{2}$/.test(address.country.trim()))
    errors.country = "Two letters, e.g. US or GB.";
  const phone = address.phone.replace(/[\s()-]/g, "");
  if (phone && !/^\+[0-9]{7,19}$/.test(phone))
    errors.phone = "International format, e.g. +14155550123.";
  return errors;
}
