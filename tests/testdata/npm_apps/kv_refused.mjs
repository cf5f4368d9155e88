// Loads a config naming the Deno KV store on this runtime and prints what createGateway says.
import { ConfigError, createGateway } from "@keyward/keyward";

try {
  await createGateway("routes:\n  - { name: a, path: /a, preset: openai }\nstore:\n  kind: kv\n");
  console.log(JSON.stringify({ loaded: true }));
} catch (error) {
  console.log(JSON.stringify({ configError: error instanceof ConfigError, message: error.message }));
}
