import { createApiClient } from "./client";
import { createLocalTokenStore, type Session } from "./tokens";
import type {
  AddAddressRequest,
  AddressCheck,
  AddressFields,
  AddressList,
  AuthResponse,
  Cart,
  ConfirmPaymentRequest,
  CreateListingRequest,
  Listing,
  ListingPage,
  Me,
  Order,
  OrderPage,
  OrderPaymentIntent,
  OrderStatus,
  OwnListingPage,
  OwnListingStatus,
  PlaceOrderRequest,
  PlaceSuggestionList,
  PublicUser,
  RegisterRequest,
  SavedAddress,
  UpdateAddressRequest,
  UpdateListingRequest,
} from "./types";

export const tokenStore = createLocalTokenStore();
export const http = createApiClient({ store: tokenStore });

const v1 = "/api/v1";

export function sessionOf(auth: AuthResponse): Session {
  return {
    accessToken: auth.tokens.access_token,
    refreshToken: auth.tokens.refresh_token,
  };
}

export interface ListingQuery {
  q?: string;
  category?: string;
  condition?: string;
  min_price?: number;
  max_price?: number;
  in_stock?: boolean;
  sort?: string;
  limit?: number;
  cursor?: string;
}

// Leaves out empty values: the API treats a present-but-empty parameter as invalid.
function params(query: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (
      value === undefined ||
      value === null ||
      value === "" ||
      value === false
    )
      continue;
    out[key] = String(value);
  }
  return out;
}

export const api = {
  register: async (body: RegisterRequest) =>
    (await http.post<AuthResponse>(`${v1}/auth/register`, body)).data,
  login: async (login: string, password: string) =>
    (await http.post<AuthResponse>(`${v1}/auth/login`, { login, password }))
      .data,
  logout: async (refreshToken: string) => {
    await http.post(`${v1}/auth/logout`, { refresh_token: refreshToken });
  },
  logoutAll: async () => {
    await http.post(`${v1}/auth/logout-all`);
  },
  me: async () => (await http.get<Me>(`${v1}/me`)).data,
  updateMe: async (body: { display_name?: string; email?: string }) =>
    (await http.patch<Me>(`${v1}/me`, body)).data,
  changePassword: async (currentPassword: string, newPassword: string) => {
    await http.post(`${v1}/me/password`, {
      current_password: currentPassword,
      new_password: newPassword,
    });
  },
  deleteMe: async () => {
    await http.delete(`${v1}/me`);
  },
  user: async (username: string) =>
    (await http.get<PublicUser>(`${v1}/users/${encodeURIComponent(username)}`))
      .data,

  listings: async (query: ListingQuery) =>
    (await http.get<ListingPage>(`${v1}/listings`, { params: params(query) }))
      .data,
  shop: async (username: string, query: ListingQuery) =>
    (
      await http.get<ListingPage>(
        `${v1}/users/${encodeURIComponent(username)}/listings`,
        {
          params: params(query),
        },
      )
    ).data,
  // The caller's own listings, inactive ones included unless `status` says otherwise.
  myListings: async (query: ListingQuery & { status?: OwnListingStatus }) =>
    (
      await http.get<OwnListingPage>(`${v1}/me/listings`, {
        params: params(query),
      })
    ).data,
  listing: async (id: number) =>
    (await http.get<Listing>(`${v1}/listings/${id}`)).data,
  createListing: async (body: CreateListingRequest) =>
    (await http.post<Listing>(`${v1}/listings`, body)).data,
  // With the version the edit was made on: a listing changed since answers 412.
  updateListing: async (
    id: number,
    version: number,
    body: UpdateListingRequest,
  ) =>
    (
      await http.patch<Listing>(`${v1}/listings/${id}`, body, {
        headers: { "If-Match": `"${version}"` },
      })
    ).data,
  setListingActive: async (id: number, active: boolean) =>
    (
      await http.post<Listing>(
        `${v1}/listings/${id}/${active ? "activate" : "deactivate"}`,
      )
    ).data,
  uploadImage: async (id: number, file: File) => {
    const form = new FormData();
    form.append("image", file);
    return (await http.post<Listing>(`${v1}/listings/${id}/images`, form)).data;
  },
  setMainImage: async (id: number, imageId: number) =>
    (await http.put<Listing>(`${v1}/listings/${id}/images/${imageId}/main`))
      .data,
  reorderImages: async (id: number, imageIds: number[]) => {
    await http.put(`${v1}/listings/${id}/images/order`, {
      image_ids: imageIds,
    });
  },
  deleteImage: async (id: number, imageId: number) => {
    await http.delete(`${v1}/listings/${id}/images/${imageId}`);
  },

  cart: async () => (await http.get<Cart>(`${v1}/cart`)).data,
  setCartItem: async (listingId: number, quantity: number) =>
    (await http.put<Cart>(`${v1}/cart/items/${listingId}`, { quantity })).data,
  removeCartItem: async (listingId: number) =>
    (await http.delete<Cart>(`${v1}/cart/items/${listingId}`)).data,

  addresses: async () =>
    (await http.get<AddressList>(`${v1}/me/addresses`)).data.addresses,
  addAddress: async (body: AddAddressRequest) =>
    (await http.post<SavedAddress>(`${v1}/me/addresses`, body)).data,
  updateAddress: async (id: number, body: UpdateAddressRequest) =>
    (await http.patch<SavedAddress>(`${v1}/me/addresses/${id}`, body)).data,
  deleteAddress: async (id: number) => {
    await http.delete(`${v1}/me/addresses/${id}`);
  },
  validateAddress: async (body: AddressFields) =>
    (await http.post<AddressCheck>(`${v1}/geo/validate`, body)).data,
  suggestPlaces: async (
    q: string,
    country: string | undefined,
    session: string,
    signal?: AbortSignal,
  ) =>
    (
      await http.get<PlaceSuggestionList>(`${v1}/geo/suggest`, {
        params: params({ q, country, session }),
        signal,
      })
    ).data.suggestions,

  placeOrder: async (body: PlaceOrderRequest, idempotencyKey: string) =>
    (
      await http.post<Order>(`${v1}/orders`, body, {
        headers: { "Idempotency-Key": idempotencyKey },
      })
    ).data,
  orders: async (
    role: "buyer" | "seller",
    status?: OrderStatus,
    cursor?: string,
  ) =>
    (
      await http.get<OrderPage>(`${v1}/orders`, {
        params: params({ role, status, cursor }),
      })
    ).data,
  order: async (id: number) =>
    (await http.get<Order>(`${v1}/orders/${id}`)).data,
  startPayment: async (id: number) =>
    (await http.post<OrderPaymentIntent>(`${v1}/orders/${id}/payment`)).data,
  confirmLocalPayment: async (intentId: string, body: ConfirmPaymentRequest) =>
    (
      await http.post(
        `${v1}/payments/local/intents/${encodeURIComponent(intentId)}/confirm`,
        body,
      )
    ).data,
  cancelOrder: async (id: number) =>
    (await http.post<Order>(`${v1}/orders/${id}/cancel`)).data,
  shipItems: async (
    id: number,
    itemIds: number[],
    carrier: string,
    trackingCode: string,
  ) =>
    (
      await http.post<Order>(`${v1}/orders/${id}/ship`, {
        item_ids: itemIds,
        carrier,
        tracking_code: trackingCode,
      })
    ).data,
  refundItems: async (id: number, itemIds: number[], reason: string) =>
    (
      await http.post<Order>(`${v1}/orders/${id}/refund`, {
        item_ids: itemIds,
        ...(reason ? { reason } : {}),
      })
    ).data,
  deliverItems: async (id: number) =>
    (await http.post<Order>(`${v1}/orders/${id}/deliver`, {})).data,
};
