import { defaultClientConditions, defineConfig } from "vite";

// Vite 8 transforms TSX itself (Oxc); React's automatic JSX runtime is the default.
export default defineConfig({
  // A workspace package is bundled from its TypeScript sources (the "source" export condition, as
  // the tests resolve it): the UI needs no build of it first (@hearth/contracts/username).
  resolve: { conditions: ["source", ...defaultClientConditions] },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    // The largest chunk (~650 kB) is mermaid's, loaded only with an answer's first diagram; the
    // first page loads none of it (index ~310 kB, markdown-render ~500 kB).
    chunkSizeWarningLimit: 700,
  },
});
