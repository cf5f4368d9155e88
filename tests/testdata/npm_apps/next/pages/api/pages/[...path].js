// A Pages Router API route, as the README shows it: the body parser off so uploads stream.
import { createPagesHandler } from "@keyward/keyward/nextjs";

export const config = { api: { bodyParser: false } };
export default createPagesHandler("next_routes.yaml");
