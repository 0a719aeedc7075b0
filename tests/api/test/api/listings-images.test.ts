import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { api, type ApiResponse } from "../../lib/client.js";
import {
  createListing,
  etagOf,
  expectError,
  getBytes,
  multipartBody,
  queryString,
  register,
  servedRoutes,
  type Listing,
  type ListingImage,
  type ListingPage,
} from "../../lib/fixtures.js";
import { repoRoot } from "../../lib/server.js";

// Image uploads may land after the rest of the catalogue: these tests run as soon as the server
// has the routes, and are skipped (visibly) only until then. When `marketplace routes` itself
// fails (routes.test.ts reports that), they run rather than hide.
const routesHaveImages = await servedRoutes().then(
  (routes) => routes.has("POST /api/v1/listings/{id}/images"),
  () => true,
);
const itImages = it.skipIf(!routesHaveImages);

function fixture(name: string): Buffer {
  return readFileSync(path.join(repoRoot, "tests/api/fixtures", name));
}

// Made with ImageMagick and cwebp; see tests/api/fixtures/README.md.
const jpeg = { bytes: fixture("tiny.jpg"), width: 24, height: 16 };
const png = { bytes: fixture("tiny.png"), width: 20, height: 30 };
const webp = { bytes: fixture("tiny.webp"), width: 32, height: 20 };
// A complete 1×1 GIF: a real image, in a format that is not accepted.
const gif = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");

const kMiB = 1024 * 1024;

function imagesPath(id: number): string {
  return `/api/v1/listings/${id}/images`;
}

function upload(id: number, token: string | undefined, bytes: Uint8Array, contentType: string): Promise<ApiResponse<Listing>> {
  return api<Listing>("POST", imagesPath(id), { token, body: bytes, contentType });
}

function setMain(id: number, imageId: number, token?: string): Promise<ApiResponse<Listing>> {
  return api<Listing>("PUT", `${imagesPath(id)}/${imageId}/main`, { token });
}

function deleteImage(id: number, imageId: number, token?: string): Promise<ApiResponse<Listing>> {
  return api<Listing>("DELETE", `${imagesPath(id)}/${imageId}`, { token });
}

function reorder(id: number, json: unknown, token?: string): Promise<ApiResponse<Listing>> {
  return api<Listing>("PUT", `${imagesPath(id)}/order`, { token, json });
}

async function sellerAndListing() {
  const seller = await register();
  const token = seller.auth.tokens.access_token;
  const listing = await createListing(token);
  return { seller, token, listing };
}

async function uploaded(id: number, token: string, bytes: Uint8Array = jpeg.bytes, contentType = "image/jpeg"): Promise<Listing> {
  const res = await upload(id, token, bytes, contentType);
  expect(res.status, res.text).toBe(201);
  return res.body;
}

function mainIds(listing: Listing): number[] {
  return listing.images.filter((image) => image.is_main).map((image) => image.id);
}

function byPosition(listing: Listing): number[] {
  return [...listing.images].sort((a, b) => a.position - b.position).map((image) => image.id);
}

async function current(id: number, token: string): Promise<Listing> {
  const res = await api<Listing>("GET", `/api/v1/listings/${id}`, { token });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

async function mainImageInBrowse(username: string, id: number): Promise<ListingImage | null | undefined> {
  const res = await api<ListingPage>("GET", `/api/v1/listings${queryString({ seller: username, limit: 100 })}`);
  expect(res.status).toBe(200);
  return res.body.items.find((item) => item.id === id)?.main_image;
}

describe("uploading images", () => {
  itImages("stores a JPEG, a PNG and a WebP sent as raw bytes; the first becomes main", async () => {
    const { token, listing } = await sellerAndListing();

    const first = await upload(listing.id, token, jpeg.bytes, "image/jpeg");
    expect(first.status, first.text).toBe(201);
    expect(first.headers.get("etag")).toBe(etagOf(2));
    expect(first.body.version).toBe(2);
    expect(first.body.images).toHaveLength(1);
    expect(first.body.images[0]).toMatchObject({ format: "jpeg", width: jpeg.width, height: jpeg.height, position: 1, is_main: true });

    const second = await upload(listing.id, token, png.bytes, "application/octet-stream");
    expect(second.status, second.text).toBe(201);
    expect(second.body.images[1]).toMatchObject({ format: "png", width: png.width, height: png.height, position: 2, is_main: false });

    const third = await upload(listing.id, token, webp.bytes, "image/webp");
    expect(third.status, third.text).toBe(201);
    expect(third.body.images[2]).toMatchObject({ format: "webp", width: webp.width, height: webp.height, position: 3, is_main: false });
    expect(mainIds(third.body)).toEqual([first.body.images[0]!.id]);
    expect(third.body.version).toBe(4);

    expect(await current(listing.id, token)).toEqual(third.body);
  });

  itImages("decides the format from the bytes, not from the declared type", async () => {
    const { token, listing } = await sellerAndListing();
    const res = await upload(listing.id, token, png.bytes, "image/jpeg");
    expect(res.status, res.text).toBe(201);
    expect(res.body.images[0]).toMatchObject({ format: "png", width: png.width, height: png.height });
  });

  itImages("accepts multipart/form-data with the image in a part named image or file", async () => {
    const { token, listing } = await sellerAndListing();
    const asImage = multipartBody("image", "photo.jpg", "image/jpeg", jpeg.bytes);
    const first = await api<Listing>("POST", imagesPath(listing.id), { token, body: asImage.body, contentType: asImage.contentType });
    expect(first.status, first.text).toBe(201);
    expect(first.body.images[0]).toMatchObject({ format: "jpeg", width: jpeg.width, height: jpeg.height });

    // The part's own type and file name are not trusted either.
    const asFile = multipartBody("file", "notes.txt", "text/plain", webp.bytes);
    const second = await api<Listing>("POST", imagesPath(listing.id), { token, body: asFile.body, contentType: asFile.contentType });
    expect(second.status, second.text).toBe(201);
    expect(second.body.images[1]).toMatchObject({ format: "webp", width: webp.width, height: webp.height });
  });

  itImages("refuses bytes that are not a complete JPEG, PNG or WebP with 422 naming image", async () => {
    const { token, listing } = await sellerAndListing();
    const text = Buffer.from("This is a text file, not a photo.\n".repeat(20));
    const textAsJpeg = multipartBody("image", "photo.jpg", "image/jpeg", text);
    const cases: [string, ApiResponse][] = [
      ["a text file named .jpg", await api("POST", imagesPath(listing.id), { token, body: textAsJpeg.body, contentType: textAsJpeg.contentType })],
      ["text sent as image/jpeg", await upload(listing.id, token, text, "image/jpeg")],
      ["a truncated JPEG", await upload(listing.id, token, jpeg.bytes.subarray(0, Math.floor(jpeg.bytes.length / 2)), "image/jpeg")],
      ["a JPEG without its last bytes", await upload(listing.id, token, jpeg.bytes.subarray(0, jpeg.bytes.length - 8), "image/jpeg")],
      ["a truncated PNG", await upload(listing.id, token, png.bytes.subarray(0, png.bytes.length - 20), "image/png")],
      ["a truncated WebP", await upload(listing.id, token, webp.bytes.subarray(0, Math.floor(webp.bytes.length / 2)), "image/webp")],
      ["a GIF", await upload(listing.id, token, gif, "application/octet-stream")],
      ["an empty body", await upload(listing.id, token, new Uint8Array(0), "image/jpeg")],
    ];
    for (const [what, res] of cases) {
      expect(res.status, `${what}: ${res.text}`).toBe(422);
      expectError(res, 422, "validation_failed", ["image"]);
    }
    const noImagePart = multipartBody("attachment", "photo.jpg", "image/jpeg", jpeg.bytes);
    expectError(
      await api("POST", imagesPath(listing.id), { token, body: noImagePart.body, contentType: noImagePart.contentType }),
      422,
      "validation_failed",
      ["image"],
    );
    expect(await current(listing.id, token)).toEqual(listing);
  });

  itImages("refuses other content types with 415 and a malformed multipart body with 400", async () => {
    const { token, listing } = await sellerAndListing();
    expectError(await upload(listing.id, token, jpeg.bytes, "text/plain"), 415, "unsupported_media_type");
    expectError(await upload(listing.id, token, gif, "image/gif"), 415, "unsupported_media_type");
    expectError(await upload(listing.id, token, jpeg.bytes, "multipart/form-data"), 400, "bad_request");
    expectError(await upload(listing.id, token, jpeg.bytes, "multipart/form-data; boundary=xyz"), 400, "bad_request");
    expect(await current(listing.id, token)).toEqual(listing);
  });

  itImages("refuses a body over 8 MiB with 413", async () => {
    const { token, listing } = await sellerAndListing();
    const big = Buffer.alloc(9 * kMiB, 0);
    jpeg.bytes.copy(big, 0, 0, 20);
    expectError(await upload(listing.id, token, big, "image/jpeg"), 413, "payload_too_large");
    expect(await current(listing.id, token)).toEqual(listing);
  });

  itImages("refuses an 11th image with 409 and keeps 10", async () => {
    const { token, listing } = await sellerAndListing();
    let latest = listing;
    for (let i = 0; i < 10; i++) latest = await uploaded(listing.id, token, i % 2 === 0 ? jpeg.bytes : png.bytes);
    expect(latest.images.map((image) => image.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expectError(await upload(listing.id, token, webp.bytes, "image/webp"), 409, "conflict");
    expect(await current(listing.id, token)).toEqual(latest);
  });

  itImages("of concurrent uploads onto the 10th place exactly one wins", async () => {
    const { token, listing } = await sellerAndListing();
    for (let i = 0; i < 9; i++) await uploaded(listing.id, token);
    const answers = await Promise.all([0, 1, 2, 3].map(() => upload(listing.id, token, webp.bytes, "image/webp")));
    expect(answers.map((res) => res.status).sort()).toEqual([201, 409, 409, 409]);
    const stored = await current(listing.id, token);
    expect(stored.images).toHaveLength(10);
    expect(stored.images.filter((image) => image.format === "webp")).toHaveLength(1);
    expect(mainIds(stored)).toHaveLength(1);
  });

  itImages("is for the seller only", async () => {
    const { listing } = await sellerAndListing();
    const other = await register();
    expectError(await upload(listing.id, other.auth.tokens.access_token, jpeg.bytes, "image/jpeg"), 403, "forbidden");
    expectError(await upload(listing.id, undefined, jpeg.bytes, "image/jpeg"), 401, "unauthenticated");
    expectError(await upload(999_999_999_999, other.auth.tokens.access_token, jpeg.bytes, "image/jpeg"), 404, "not_found");
  });
});

describe("the main image and the order", () => {
  itImages("follow set-main, reorder and delete; deleting the main one promotes the first by position", async () => {
    const { seller, token, listing } = await sellerAndListing();
    await uploaded(listing.id, token, jpeg.bytes);
    await uploaded(listing.id, token, png.bytes, "image/png");
    const three = await uploaded(listing.id, token, webp.bytes, "image/webp");
    const [a, b, c] = three.images.map((image) => image.id) as [number, number, number];
    expect(mainIds(three)).toEqual([a]);
    expect((await mainImageInBrowse(seller.username, listing.id))?.id).toBe(a);

    const main = await setMain(listing.id, c, token);
    expect(main.status, main.text).toBe(200);
    expect(mainIds(main.body)).toEqual([c]);
    expect(main.body.version).toBe(three.version + 1);
    expect(main.headers.get("etag")).toBe(etagOf(three.version + 1));
    expect((await mainImageInBrowse(seller.username, listing.id))?.id).toBe(c);

    const ordered = await reorder(listing.id, { image_ids: [c, b, a] }, token);
    expect(ordered.status, ordered.text).toBe(200);
    expect(byPosition(ordered.body)).toEqual([c, b, a]);
    expect(ordered.body.images.map((image) => image.id)).toEqual([c, b, a]);
    expect(mainIds(ordered.body)).toEqual([c]);

    // c was main and first; the first remaining by position is b, though a is older.
    const withoutC = await deleteImage(listing.id, c, token);
    expect(withoutC.status, withoutC.text).toBe(200);
    expect(byPosition(withoutC.body)).toEqual([b, a]);
    expect(mainIds(withoutC.body)).toEqual([b]);

    const withoutA = await deleteImage(listing.id, a, token);
    expect(withoutA.status, withoutA.text).toBe(200);
    expect(withoutA.body.images.map((image) => image.id)).toEqual([b]);
    expect(mainIds(withoutA.body)).toEqual([b]);

    const none = await deleteImage(listing.id, b, token);
    expect(none.status, none.text).toBe(200);
    expect(none.body.images).toEqual([]);
    expect(await mainImageInBrowse(seller.username, listing.id)).toBeNull();
    expect(await current(listing.id, token)).toEqual(none.body);
  });

  itImages("refuses an order that does not list every image exactly once", async () => {
    const { token, listing } = await sellerAndListing();
    await uploaded(listing.id, token);
    const two = await uploaded(listing.id, token, png.bytes, "image/png");
    const [a, b] = two.images.map((image) => image.id) as [number, number];
    const elsewhere = await sellerAndListing();
    const foreign = (await uploaded(elsewhere.listing.id, elsewhere.token)).images[0]!.id;
    for (const image_ids of [[a], [a, a], [a, b, a], [a, b, foreign], [], [b, foreign]]) {
      expectError(await reorder(listing.id, { image_ids }, token), 422, "validation_failed", ["image_ids"]);
    }
    expectError(await reorder(listing.id, { image_ids: [String(a), String(b)] }, token), 422, "validation_failed", ["image_ids"]);
    expectError(await reorder(listing.id, {}, token), 422, "validation_failed", ["image_ids"]);
    expect(await current(listing.id, token)).toEqual(two);
  });

  itImages("answers 404 for an image that is not on the listing", async () => {
    const { token, listing } = await sellerAndListing();
    await uploaded(listing.id, token);
    const elsewhere = await sellerAndListing();
    const foreign = (await uploaded(elsewhere.listing.id, elsewhere.token)).images[0]!.id;
    expectError(await setMain(listing.id, foreign, token), 404, "not_found");
    expectError(await deleteImage(listing.id, foreign, token), 404, "not_found");
    expectError(await setMain(listing.id, 999_999_999_999, token), 404, "not_found");
    expect((await current(elsewhere.listing.id, elsewhere.token)).images).toHaveLength(1);
  });

  itImages("are for the seller only", async () => {
    const { token, listing } = await sellerAndListing();
    const image = (await uploaded(listing.id, token)).images[0]!.id;
    const other = (await register()).auth.tokens.access_token;
    expectError(await setMain(listing.id, image, other), 403, "forbidden");
    expectError(await deleteImage(listing.id, image, other), 403, "forbidden");
    expectError(await reorder(listing.id, { image_ids: [image] }, other), 403, "forbidden");
    expectError(await setMain(listing.id, image), 401, "unauthenticated");
    expectError(await deleteImage(listing.id, image), 401, "unauthenticated");
    expectError(await reorder(listing.id, { image_ids: [image] }), 401, "unauthenticated");
    expect((await current(listing.id, token)).images.map((i) => i.id)).toEqual([image]);
  });
});

describe("media URLs", () => {
  const magic: Record<string, (bytes: Buffer) => boolean> = {
    "image/jpeg": (bytes) => bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff,
    "image/png": (bytes) => bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
    "image/webp": (bytes) => bytes.subarray(0, 4).toString("latin1") === "RIFF" && bytes.subarray(8, 12).toString("latin1") === "WEBP",
  };

  itImages("serve each rendition with its type, an ETag and an immutable cache header; 304 when unchanged", async () => {
    const { token, listing } = await sellerAndListing();
    await uploaded(listing.id, token, jpeg.bytes);
    await uploaded(listing.id, token, png.bytes, "image/png");
    const stored = await uploaded(listing.id, token, webp.bytes, "image/webp");
    const originals: Record<string, string> = { jpeg: "image/jpeg", png: "image/png", webp: "image/webp" };

    for (const image of stored.images) {
      const expected: [string, string][] = [
        [image.urls.original, originals[image.format]!],
        [image.urls.small, "image/webp"],
        [image.urls.large, "image/webp"],
      ];
      for (const [url, type] of expected) {
        const res = await getBytes(url);
        expect(res.status, `${url}: ${res.status}`).toBe(200);
        expect(res.headers.get("content-type"), url).toBe(type);
        expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
        expect(magic[type]!(res.bytes), `${url} starts like ${type}`).toBe(true);
        const etag = res.headers.get("etag")!;
        const again = await getBytes(url, { "if-none-match": etag });
        expect(again.status, url).toBe(304);
        expect(again.bytes.length).toBe(0);
        expect(again.headers.get("etag")).toBe(etag);
      }
    }
    expect(new Set(stored.images.map((image) => image.urls.original)).size).toBe(3);
  });

  itImages("answer 404 for anything that was not stored", async () => {
    expectError(await api("GET", `/media/ab/cd/${"0".repeat(64)}.webp`), 404, "not_found");
    expectError(await api("GET", "/media/a/b/c"), 404, "not_found");
    expectError(await api("GET", `/media/00/00/${"0".repeat(64)}.gif`), 404, "not_found");
  });
});
