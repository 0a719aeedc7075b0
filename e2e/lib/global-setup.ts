// The server every flow uses (flows that need other settings start their own): see server.ts.
import { startServer } from "./server";

export default async function globalSetup(): Promise<() => Promise<void>> {
  const server = await startServer();
  process.env.E2E_BASE_URL = server.baseUrl;
  return async () => {
    try {
      await server.stop();
    } catch (error) {
      process.exitCode = 1;
      throw error;
    }
  };
}
