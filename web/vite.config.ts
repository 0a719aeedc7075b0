/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";

// `npm run dev` proxies the API and media to a server started with HTTP_PORT=MARKETPLACE_PORT.
const api = `http://127.0.0.1:${process.env.MARKETPLACE_PORT ?? "8080"}`;

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    // Maps for error reporting, never referenced by the bundle (and never served).
    sourcemap: "hidden",
    assetsDir: "assets",
    rollupOptions: {
      // Libraries in a chunk of their own: it changes less often than the app's code, so a new
      // release of the app leaves it cached.
      output: {
        manualChunks: (id: string) =>
          id.includes("/node_modules/") ? "vendor" : undefined,
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
