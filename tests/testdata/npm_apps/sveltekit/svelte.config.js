// A SvelteKit app built by `vite build` with adapter-node, as a user deploys it on Node.
import adapter from "@sveltejs/adapter-node";

export default { kit: { adapter: adapter() } };
