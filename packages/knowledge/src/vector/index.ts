export {
  QuantizedVectorIndex,
  type VectorIndexOptions,
  type VectorMatch,
  type VectorSearchOptions,
} from "./quantized-vector-index.js";
