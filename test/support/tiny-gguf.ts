/**
 * Writes a tiny but valid GGUF language model, from scratch, for tests.
 *
 * Tests of the model service must pass on a fresh clone with no downloaded models, so instead of
 * shipping a binary we generate one: a one-layer llama-architecture model with a 16-dimensional
 * embedding, a SentencePiece-style ("llama") vocabulary of a few hundred pieces and deterministic
 * pseudo-random F32 weights. llama.cpp (through node-llama-cpp) loads it, tokenizes with it and
 * generates text with it. The text is nonsense, but it is printable, non-empty and deterministic.
 *
 * File layout follows the GGUF spec (v3), https://github.com/ggml-org/ggml/blob/master/docs/gguf.md:
 *
 *   header       magic "GGUF", version (u32), tensor_count (u64), metadata_kv_count (u64)
 *   metadata     metadata_kv_count × { key: string, value_type: u32, value }
 *   tensor infos tensor_count × { name: string, n_dims: u32, dims: u64[n_dims], type: u32, offset: u64 }
 *   padding      to a multiple of general.alignment
 *   tensor data  each tensor at its `offset` (relative to the start of this section), itself aligned
 *
 * Everything is little-endian; a string is a u64 byte length followed by UTF-8 bytes (no NUL).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { seededRandom } from "./seeded-random.js";

export interface TinyGgufOptions {
  /** Seed of the weight generator; the same seed always gives the same bytes (default 1). */
  seed?: number;
  /** A Jinja chat template, stored as `tokenizer.chat_template`; omitted from the file when not given. */
  chatTemplate?: string;
  /** The context it was "trained" on, `llama.context_length` (default 512): the most a context may hold. */
  contextLength?: number;
  /**
   * Metadata written in place of the model's own (or added): a whole number as a u32, e.g.
   * `{ "llama.block_count": 4000 }` (a file that parses but that llama.cpp must never be given), or
   * a string, e.g. `{ "general.size_label": "3B" }`.
   */
  overrideMetadata?: Record<string, number | string>;
  /**
   * Write a cross-encoder reranker instead, shaped as llama.cpp converts Qwen3-Reranker: the
   * `qwen3` architecture (llama's block plus per-head query and key RMS norms), `qwen3.pooling_type`
   * 4 (rank) and a classification head `cls.output.weight` of two labels ("yes", "no"). llama.cpp
   * reads a qwen3 reranker's score at the last token, through a softmax over the two labels, and
   * node-llama-cpp's ranking context ranks with it (its `supportsRanking` wants that head and an EOS
   * token). Its keys are `qwen3.*`, so `overrideMetadata` names those.
   */
  reranker?: boolean;
}

// --- Hyperparameters -------------------------------------------------------------------------------
// As small as llama.cpp accepts while still exercising the real llama graph (attention with RoPE,
// SwiGLU feed-forward, RMS norms). Keep N_EMBD a multiple of 16 so that every F32 row is 64 bytes
// and tensor sizes stay multiples of the alignment anyway.
const CONTEXT_LENGTH = 512;
const N_EMBD = 16;
const N_LAYER = 1;
const N_FF = 32;
const N_HEAD = 2;
const N_HEAD_KV = 2;
const HEAD_DIM = N_EMBD / N_HEAD;
const RMS_EPS = 1e-5;
const ALIGNMENT = 32;
/** The reranker's classification labels, as llama.cpp's converter writes Qwen3-Reranker's. */
const RERANK_LABELS = ["yes", "no"];
/** llama_pooling_type LLAMA_POOLING_TYPE_RANK. */
const POOLING_TYPE_RANK = 4;

// --- Vocabulary ------------------------------------------------------------------------------------
// SentencePiece marks a word-initial space with U+2581 "▁"; llama.cpp's SPM tokenizer prepends one to
// the text and turns every space into it.
const SPACE = "\u2581";

// Token types (llama_token_type in llama.cpp, the values stored in tokenizer.ggml.token_type).
const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

const UNK_ID = 0;
const BOS_ID = 1;
const EOS_ID = 2;

// Whole words the model may say. Each becomes a single "▁word" token.
const WORDS = (
  "the a hello world once upon time there was little cat dog " +
  "and is in on it to of big red sun day happy girl boy"
).split(" ");
const PUNCTUATION = [",", ".", "!", "?"];

interface Piece {
  text: string;
  score: number;
  type: number;
  /** Pieces the model is nudged towards when generating (see the output.weight bias below). */
  say: boolean;
}

/**
 * Builds the vocabulary: `<unk>`, `<s>`, `</s>`, the 256 byte-fallback tokens, then word pieces.
 *
 * llama.cpp's SPM tokenizer starts from single characters and repeatedly merges the adjacent pair
 * whose concatenation is in the vocabulary with the highest score. So for "▁hello" to come out as
 * one token, every prefix ("▁h", "▁he", "▁hel", "▁hell") must be a token too, and longer pieces must
 * score higher so the merge chain always prefers growing the word. Characters with no piece fall
 * back to the `<0xXX>` byte tokens, so any text can be tokenized.
 */
function buildVocab(): Piece[] {
  const pieces: Piece[] = [
    { text: "<unk>", score: 0, type: TOKEN_UNKNOWN, say: false },
    { text: "<s>", score: 0, type: TOKEN_CONTROL, say: false },
    { text: "</s>", score: 0, type: TOKEN_CONTROL, say: false },
  ];
  for (let b = 0; b < 256; b++) {
    const hex = b.toString(16).toUpperCase().padStart(2, "0");
    pieces.push({ text: `<0x${hex}>`, score: 0, type: TOKEN_BYTE, say: false });
  }

  const seen = new Set<string>();
  const add = (text: string) => {
    if (seen.has(text)) return;
    seen.add(text);
    // Score = length in code points: longer pieces win merges (SentencePiece scores are log
    // probabilities; only their order matters to the tokenizer).
    pieces.push({ text, score: [...text].length, type: TOKEN_NORMAL, say: false });
  };

  add(SPACE);
  for (let c = 0; c < 26; c++) {
    const letter = String.fromCharCode(97 + c);
    add(letter);
    add(SPACE + letter);
  }
  for (const p of PUNCTUATION) add(p);
  for (const word of WORDS) {
    const full = SPACE + word;
    for (let n = 2; n <= full.length; n++) add(full.slice(0, n));
  }

  // What the model is steered to say: whole words only, so generated text reads as lowercase words
  // separated by spaces. (Letting it say punctuation too made some seeds emit nothing but ",,,,".)
  const said = new Set(WORDS.map((word) => SPACE + word));
  for (const p of pieces) p.say = said.has(p.text);
  return pieces;
}

// --- Deterministic weights -------------------------------------------------------------------------

interface Tensor {
  name: string;
  /** GGUF order: dims[0] (ne[0]) varies fastest, i.e. it is the row length. */
  dims: number[];
  data: Float32Array;
}

function buildTensors(vocab: Piece[], seed: number): Tensor[] {
  const rand = seededRandom(seed);
  const uniform = (scale: number) => (rand() * 2 - 1) * scale;
  const n_vocab = vocab.length;

  const matrix = (name: string, cols: number, rows: number, scale: number): Tensor => {
    const data = new Float32Array(cols * rows);
    for (let i = 0; i < data.length; i++) data[i] = uniform(scale);
    return { name, dims: [cols, rows], data };
  };
  // RMS-norm gains of 1 keep the normalised activations as they are.
  const ones = (name: string): Tensor => ({ name, dims: [N_EMBD], data: new Float32Array(N_EMBD).fill(1) });

  // How the output stays printable: dimension 0 of every token embedding is a large constant, and the
  // attention and feed-forward blocks only add small values to the residual stream, so after the final
  // RMS norm hidden[0] is always clearly positive (about 2.5). output.weight then puts +BIAS in
  // column 0 of the rows of the whole-word tokens and -BIAS in every other row (control, byte, prefix,
  // letter and punctuation tokens). That gap dwarfs the random part of the logits, so greedy decoding
  // picks a whole word every time (checked over 60 seeds) and never EOS. The remaining random columns decide *which* word, and they depend on the context
  // through attention, so the text varies rather than repeating a single token.
  const CARRIER = 2;
  const BIAS = 2;

  const tokenEmbd = matrix("token_embd.weight", N_EMBD, n_vocab, 1);
  for (let v = 0; v < n_vocab; v++) tokenEmbd.data[v * N_EMBD] = CARRIER;

  const output = matrix("output.weight", N_EMBD, n_vocab, 1);
  for (let v = 0; v < n_vocab; v++) output.data[v * N_EMBD] = vocab[v]!.say ? BIAS : -BIAS;

  const tensors: Tensor[] = [tokenEmbd, ones("output_norm.weight"), output];
  for (let l = 0; l < N_LAYER; l++) {
    const p = `blk.${l}`;
    // Shapes as llama.cpp's llama loader expects them, [ne0, ne1]: each projection maps ne0 inputs to
    // ne1 outputs. Small scales keep the blocks' contributions to the residual stream modest.
    tensors.push(
      ones(`${p}.attn_norm.weight`),
      matrix(`${p}.attn_q.weight`, N_EMBD, HEAD_DIM * N_HEAD, 0.5),
      matrix(`${p}.attn_k.weight`, N_EMBD, HEAD_DIM * N_HEAD_KV, 0.5),
      matrix(`${p}.attn_v.weight`, N_EMBD, HEAD_DIM * N_HEAD_KV, 0.5),
      matrix(`${p}.attn_output.weight`, HEAD_DIM * N_HEAD, N_EMBD, 0.1),
      ones(`${p}.ffn_norm.weight`),
      matrix(`${p}.ffn_gate.weight`, N_EMBD, N_FF, 0.5),
      matrix(`${p}.ffn_up.weight`, N_EMBD, N_FF, 0.5),
      matrix(`${p}.ffn_down.weight`, N_FF, N_EMBD, 0.1),
    );
  }
  return tensors;
}

/**
 * What the reranker adds to the llama tensors: qwen3's query and key norms (gains of 1) and the
 * classification head, drawn from their own generator so that the llama tensors stay as they are.
 * With causal attention only the last token sees the whole query and document, which is where
 * llama.cpp pools a qwen3 reranker; the head's rows are far apart enough that the small differences
 * attention makes there move the score visibly. Two labels, not one: llama.cpp takes the softmax of
 * a qwen3 reranker's labels, which for a single label is always 1.
 */
function rerankerTensors(seed: number): Tensor[] {
  const rand = seededRandom(seed + 0x5eed);
  const head = new Float32Array(N_EMBD * RERANK_LABELS.length);
  for (let i = 0; i < head.length; i++) head[i] = (rand() * 2 - 1) * 4;
  const ones = (name: string): Tensor => ({
    name,
    dims: [HEAD_DIM],
    data: new Float32Array(HEAD_DIM).fill(1),
  });
  const tensors: Tensor[] = [];
  for (let l = 0; l < N_LAYER; l++)
    tensors.push(ones(`blk.${l}.attn_q_norm.weight`), ones(`blk.${l}.attn_k_norm.weight`));
  tensors.push({ name: "cls.output.weight", dims: [N_EMBD, RERANK_LABELS.length], data: head });
  return tensors;
}

// --- GGUF serialisation ----------------------------------------------------------------------------

// gguf_type: the type tag written before every metadata value (and inside arrays, per element type).
const GGUF_UINT32 = 4;
const GGUF_INT32 = 5;
const GGUF_FLOAT32 = 6;
const GGUF_BOOL = 7;
const GGUF_STRING = 8;
const GGUF_ARRAY = 9;
// ggml_type of the tensors.
const GGML_TYPE_F32 = 0;

type MetaValue =
  | { type: "u32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "string[]"; value: string[] }
  | { type: "f32[]"; value: number[] }
  | { type: "i32[]"; value: number[] };

/** A growable little-endian byte buffer. */
class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  private static readonly utf8 = new TextEncoder();
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }
  u64(v: number): void {
    this.reserve(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  f32(v: number): void {
    this.reserve(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** gguf_string_t: u64 byte length, then UTF-8 bytes without a terminator. */
  string(s: string): void {
    const b = ByteWriter.utf8.encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  /** Zero padding up to the next multiple of `alignment` (the spec pads with 0x00). */
  align(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.reserve(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function writeMeta(w: ByteWriter, key: string, meta: MetaValue): void {
  w.string(key);
  switch (meta.type) {
    case "u32":
      w.u32(GGUF_UINT32);
      w.u32(meta.value);
      break;
    case "f32":
      w.u32(GGUF_FLOAT32);
      w.f32(meta.value);
      break;
    case "bool":
      w.u32(GGUF_BOOL);
      w.u8(meta.value ? 1 : 0);
      break;
    case "string":
      w.u32(GGUF_STRING);
      w.string(meta.value);
      break;
    // Arrays: GGUF_ARRAY, then the element type (u32), the element count (u64) and the elements.
    case "string[]":
      w.u32(GGUF_ARRAY);
      w.u32(GGUF_STRING);
      w.u64(meta.value.length);
      for (const s of meta.value) w.string(s);
      break;
    case "f32[]":
      w.u32(GGUF_ARRAY);
      w.u32(GGUF_FLOAT32);
      w.u64(meta.value.length);
      for (const v of meta.value) w.f32(v);
      break;
    case "i32[]":
      w.u32(GGUF_ARRAY);
      w.u32(GGUF_INT32);
      w.u64(meta.value.length);
      for (const v of meta.value) w.i32(v);
      break;
  }
}

/** The bytes of the tiny model. Pure and deterministic: the same options give the same bytes. */
export function tinyGgufBytes(options: TinyGgufOptions = {}): Uint8Array {
  const vocab = buildVocab();
  const seed = options.seed ?? 1;
  const tensors = [...buildTensors(vocab, seed), ...(options.reranker ? rerankerTensors(seed) : [])];
  const arch = options.reranker ? "qwen3" : "llama";

  // Keys as llama.cpp reads them for the architecture ("<arch>.<key>") and the SPM tokenizer.
  const metadata: [string, MetaValue][] = [
    ["general.architecture", { type: "string", value: arch }],
    ["general.name", { type: "string", value: "hearth-tiny" }],
    // 32 is the default, written anyway so readers need not assume it.
    ["general.alignment", { type: "u32", value: ALIGNMENT }],
    [`${arch}.context_length`, { type: "u32", value: options.contextLength ?? CONTEXT_LENGTH }],
    [`${arch}.embedding_length`, { type: "u32", value: N_EMBD }],
    [`${arch}.block_count`, { type: "u32", value: N_LAYER }],
    [`${arch}.feed_forward_length`, { type: "u32", value: N_FF }],
    [`${arch}.attention.head_count`, { type: "u32", value: N_HEAD }],
    [`${arch}.attention.head_count_kv`, { type: "u32", value: N_HEAD_KV }],
    [`${arch}.attention.layer_norm_rms_epsilon`, { type: "f32", value: RMS_EPS }],
    [`${arch}.rope.dimension_count`, { type: "u32", value: HEAD_DIM }],
    [`${arch}.vocab_size`, { type: "u32", value: vocab.length }],
    ["tokenizer.ggml.model", { type: "string", value: "llama" }],
    ["tokenizer.ggml.tokens", { type: "string[]", value: vocab.map((p) => p.text) }],
    ["tokenizer.ggml.scores", { type: "f32[]", value: vocab.map((p) => p.score) }],
    ["tokenizer.ggml.token_type", { type: "i32[]", value: vocab.map((p) => p.type) }],
    ["tokenizer.ggml.bos_token_id", { type: "u32", value: BOS_ID }],
    ["tokenizer.ggml.eos_token_id", { type: "u32", value: EOS_ID }],
    ["tokenizer.ggml.unknown_token_id", { type: "u32", value: UNK_ID }],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: true }],
    ["tokenizer.ggml.add_eos_token", { type: "bool", value: false }],
  ];
  if (options.reranker)
    metadata.push(
      [`${arch}.pooling_type`, { type: "u32", value: POOLING_TYPE_RANK }],
      [`${arch}.classifier.output_labels`, { type: "string[]", value: RERANK_LABELS }],
    );
  for (const [key, value] of Object.entries(options.overrideMetadata ?? {})) {
    const entry: MetaValue = typeof value === "string" ? { type: "string", value } : { type: "u32", value };
    const at = metadata.findIndex(([name]) => name === key);
    if (at >= 0) metadata[at] = [key, entry];
    else metadata.push([key, entry]);
  }
  if (options.chatTemplate !== undefined) {
    metadata.push(["tokenizer.chat_template", { type: "string", value: options.chatTemplate }]);
  }

  const w = new ByteWriter();
  // Header. The magic is the bytes "GGUF", i.e. 0x46554747 read as a little-endian u32.
  w.bytes(new TextEncoder().encode("GGUF"));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(metadata.length);
  for (const [key, value] of metadata) writeMeta(w, key, value);

  // Tensor infos. Offsets are relative to the start of the tensor data section and must be
  // multiples of the alignment, so each tensor's data is padded up to the next boundary.
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    offsets.push(offset);
    w.string(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(GGML_TYPE_F32);
    w.u64(offset);
    offset += Math.ceil(t.data.byteLength / ALIGNMENT) * ALIGNMENT;
  }

  // The data section itself starts at an aligned file offset.
  w.align(ALIGNMENT);
  const dataStart = w.length;
  tensors.forEach((t, i) => {
    // Sanity check that the running layout matches the offsets announced above.
    if (w.length - dataStart !== offsets[i]) throw new Error(`tiny-gguf: misplaced tensor ${t.name}`);
    // Float32Array memory is platform-endian; write element by element to guarantee little-endian.
    for (const v of t.data) w.f32(v);
    w.align(ALIGNMENT);
  });
  return w.result();
}

/** Writes the tiny model to `filePath` (creating its directory), e.g. a temp dir in a test. */
export async function writeTinyGguf(filePath: string, options: TinyGgufOptions = {}): Promise<void> {
  await mkdir(dirname(filePath), { recursive: true });
  await writeFile(filePath, tinyGgufBytes(options));
}
