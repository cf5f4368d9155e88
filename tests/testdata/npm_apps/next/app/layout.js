// The root layout every App Router app has (written without JSX: no JSX config needed).
import { createElement as h } from "react";

export default function RootLayout({ children }) {
  return h("html", null, h("body", null, children));
}
