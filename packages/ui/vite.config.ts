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
    chunkSizeWarningLimit: 600,
  },
});
