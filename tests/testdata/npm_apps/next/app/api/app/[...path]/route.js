// An App Router route handler, as the README shows it.
import { createHandler } from "@keyward/keyward/nextjs";

export const dynamic = "force-dynamic";
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = createHandler("next_routes.yaml");
