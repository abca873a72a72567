import { defineConfig } from "vite";

// Vite 8 transforms TSX itself (Oxc); React's automatic JSX runtime is the default.
export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    chunkSizeWarningLimit: 600,
  },
});
