;; Int8 dot-product scan for the quantised vector index (WebAssembly SIMD, 128-bit).
;; scan(query, codes, scales, count, stride, out): for each of `count` rows of `stride` int8 codes
;; (stride a multiple of 16, codes in [-127, 127]), out[i] = f32(dot(query, row_i)) * scales[i].
;; Two products of codes in [-127, 127] sum to at most 32,258, so they fit an i16 lane before being
;; widened pairwise to i32: 5 SIMD operations per 16 dimensions.
(module
  (memory (export "memory") 1 65536)
  (func (export "scan")
    (param $query i32) (param $codes i32) (param $scales i32) (param $count i32) (param $stride i32) (param $out i32)
    (local $row i32) (local $offset i32) (local $accumulator v128) (local $queryLane v128) (local $codeLane v128)
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $count)))
        (local.set $accumulator (v128.const i32x4 0 0 0 0))
        (local.set $offset (i32.const 0))
        (loop $columns
          (local.set $queryLane (v128.load (i32.add (local.get $query) (local.get $offset))))
          (local.set $codeLane (v128.load (i32.add (local.get $codes) (local.get $offset))))
          (local.set $accumulator
            (i32x4.add (local.get $accumulator)
              (i32x4.extadd_pairwise_i16x8_s
                (i16x8.add
                  (i16x8.extmul_low_i8x16_s (local.get $queryLane) (local.get $codeLane))
                  (i16x8.extmul_high_i8x16_s (local.get $queryLane) (local.get $codeLane))))))
          (local.set $offset (i32.add (local.get $offset) (i32.const 16)))
          (br_if $columns (i32.lt_u (local.get $offset) (local.get $stride))))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $row) (i32.const 2)))
          (f32.mul
            (f32.convert_i32_s
              (i32.add
                (i32.add (i32x4.extract_lane 0 (local.get $accumulator)) (i32x4.extract_lane 1 (local.get $accumulator)))
                (i32.add (i32x4.extract_lane 2 (local.get $accumulator)) (i32x4.extract_lane 3 (local.get $accumulator)))))
            (f32.load (i32.add (local.get $scales) (i32.shl (local.get $row) (i32.const 2))))))
        (local.set $codes (i32.add (local.get $codes) (local.get $stride)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows)))))
