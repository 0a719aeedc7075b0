/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";

// `npm run dev` proxies the API and media to a server started with HTTP_PORT=MARKETPLACE_PORT.
const api = `http://127.0.0.1:${process.env.MARKETPLACE_PORT ?? "8080"}`;

const kStripeOnly = /\/node_modules\/(@stripe|prop-types)\//;

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    // Maps for error reporting, never referenced by the bundle (and never served).
    sourcemap: "hidden",
    assetsDir: "assets",
    rollupOptions: {
      // Libraries in a chunk of their own: it changes less often than the app's code, so a new
      // release of the app leaves it cached. Stripe's (and prop-types, which only they use) stay
      // with the Stripe payment chunk, so that no other page downloads them.
      output: {
        manualChunks: (id: string) =>
          id.includes("/node_modules/") && !kStripeOnly.test(id)
            ? "vendor"
            : undefined,
      },
    },
  },
  server: {
    proxy: { "/api": api, "/media": api },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    reporters: ["default"],
  },
});
