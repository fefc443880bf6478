;; One stage of the learned filters (see raisr.ts, runStage), with 128-bit SIMD: the four filters
;; of a group of places sit side by side for every tap, so each tap is one f32x4 multiply-add.
;; The source is padded by `pad` pixels on every side (edges repeated), so no window needs
;; clamping. The output is `ow` pixels a row from `out` (wider than the image when it is the next
;; stage's padded source). Compiled to stage-wasm.ts by `npm run build:wasm`.
(module
  (memory (import "env" "memory") 1)

  ;; v with its overshoot beyond [lo, hi] pulled back by ring
  (func $pull (param $v f32) (param $lo f32) (param $hi f32) (param $ring f32) (result f32)
    (if (result f32) (f32.gt (local.get $v) (local.get $hi))
      (then (f32.sub (local.get $v) (f32.mul (f32.sub (local.get $v) (local.get $hi)) (local.get $ring))))
      (else
        (if (result f32) (f32.lt (local.get $v) (local.get $lo))
          (then (f32.add (local.get $v) (f32.mul (f32.sub (local.get $lo) (local.get $v)) (local.get $ring))))
          (else (local.get $v))))))

  ;; the output pixel at byte offset `at` (from the cell's corner, in pixels) gets `v`, pulled
  (func $put (param $out i32) (param $corner i32) (param $at i32) (param $v f32) (param $lo f32) (param $hi f32) (param $ring f32)
    (f32.store
      (i32.add (local.get $out) (i32.shl (i32.add (local.get $corner) (i32.load (local.get $at))) (i32.const 2)))
      (call $pull (local.get $v) (local.get $lo) (local.get $hi) (local.get $ring))))

  (func (export "stage")
    (param $w i32) (param $src i32) (param $pw i32) (param $pad i32)
    (param $hash i32) (param $keep i32) (param $low i32) (param $high i32) (param $ranged i32)
    (param $from i32) (param $at i32) (param $out i32)
    (param $width i32) (param $height i32) (param $scale i32) (param $step i32)
    (param $rows i32) (param $cols i32) (param $groups i32) (param $ring f32) (param $ow i32)
    (local $r i32) (local $c i32) (local $k i32) (local $h i32) (local $corner i32)
    (local $lo f32) (local $hi f32) (local $t i32) (local $g i32) (local $top i32) (local $left i32)
    (local $i i32) (local $j i32) (local $rp i32) (local $wp i32) (local $acc v128) (local $cell i32)
    (local $perHash i32) (local $ga i32)
    (local.set $cell (i32.mul (local.get $scale) (local.get $scale)))
    ;; bytes of weights per hash: groups × rows × cols taps × 4 places × 4 bytes
    (local.set $perHash (i32.shl (i32.mul (local.get $groups) (i32.mul (local.get $rows) (local.get $cols))) (i32.const 4)))
    (local.set $lo (f32.const -inf))
    (local.set $hi (f32.const inf))
    (block $rdone (loop $rloop
      (br_if $rdone (i32.ge_u (local.get $r) (local.get $height)))
      (local.set $c (i32.const 0))
      (block $cdone (loop $cloop
        (br_if $cdone (i32.ge_u (local.get $c) (local.get $width)))
        (local.set $k (i32.add (i32.mul (local.get $r) (local.get $width)) (local.get $c)))
        (local.set $h (i32.load8_u (i32.add (local.get $hash) (local.get $k))))
        (local.set $corner
          (i32.add (i32.mul (i32.mul (local.get $r) (local.get $scale)) (local.get $ow)) (i32.mul (local.get $c) (local.get $scale))))
        (if (local.get $ranged) (then
          (local.set $lo (f32.load (i32.add (local.get $low) (i32.shl (local.get $k) (i32.const 2)))))
          (local.set $hi (f32.load (i32.add (local.get $high) (i32.shl (local.get $k) (i32.const 2)))))))
        (if (i32.load8_u (i32.add (local.get $keep) (local.get $h)))
          (then
            ;; every place keeps its own pixel of the (enlarged, padded) source
            (local.set $t (i32.const 0))
            (block $tdone (loop $tloop
              (br_if $tdone (i32.ge_u (local.get $t) (local.get $cell)))
              (call $put (local.get $out) (local.get $corner) (i32.add (local.get $at) (i32.shl (local.get $t) (i32.const 2)))
                (f32.load (i32.add (local.get $src) (i32.shl
                  (i32.add
                    (i32.mul
                      (i32.add (i32.add (i32.mul (local.get $r) (local.get $scale)) (i32.div_u (local.get $t) (local.get $scale))) (local.get $pad))
                      (local.get $pw))
                    (i32.add (i32.add (i32.mul (local.get $c) (local.get $scale)) (i32.rem_u (local.get $t) (local.get $scale))) (local.get $pad)))
                  (i32.const 2))))
                (local.get $lo) (local.get $hi) (local.get $ring))
              (local.set $t (i32.add (local.get $t) (i32.const 1)))
              (br $tloop))))
          (else
            (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $h) (local.get $perHash))))
            (local.set $g (i32.const 0))
            (block $gdone (loop $gloop
              (br_if $gdone (i32.ge_u (local.get $g) (local.get $groups)))
              (local.set $top (i32.add (i32.add (i32.mul (local.get $r) (local.get $step))
                (i32.load (i32.add (local.get $from) (i32.shl (local.get $g) (i32.const 3))))) (local.get $pad)))
              (local.set $left (i32.add (i32.add (i32.mul (local.get $c) (local.get $step))
                (i32.load offset=4 (i32.add (local.get $from) (i32.shl (local.get $g) (i32.const 3))))) (local.get $pad)))
              (local.set $acc (v128.const i32x4 0 0 0 0))
              (local.set $i (i32.const 0))
              (block $idone (loop $iloop
                (br_if $idone (i32.ge_u (local.get $i) (local.get $rows)))
                (local.set $rp (i32.add (local.get $src)
                  (i32.shl (i32.add (i32.mul (i32.add (local.get $top) (local.get $i)) (local.get $pw)) (local.get $left)) (i32.const 2))))
                (local.set $j (i32.const 0))
                (block $jdone (loop $jloop
                  (br_if $jdone (i32.ge_u (local.get $j) (local.get $cols)))
                  (local.set $acc (f32x4.add (local.get $acc)
                    (f32x4.mul (v128.load (local.get $wp)) (f32x4.splat (f32.load (local.get $rp))))))
                  (local.set $wp (i32.add (local.get $wp) (i32.const 16)))
                  (local.set $rp (i32.add (local.get $rp) (i32.const 4)))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br $jloop)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $iloop)))
              ;; the group's four places
              (local.set $ga (i32.add (local.get $at) (i32.shl (local.get $g) (i32.const 4))))
              (call $put (local.get $out) (local.get $corner) (local.get $ga) (f32x4.extract_lane 0 (local.get $acc)) (local.get $lo) (local.get $hi) (local.get $ring))
              (call $put (local.get $out) (local.get $corner) (i32.add (local.get $ga) (i32.const 4)) (f32x4.extract_lane 1 (local.get $acc)) (local.get $lo) (local.get $hi) (local.get $ring))
              (call $put (local.get $out) (local.get $corner) (i32.add (local.get $ga) (i32.const 8)) (f32x4.extract_lane 2 (local.get $acc)) (local.get $lo) (local.get $hi) (local.get $ring))
              (call $put (local.get $out) (local.get $corner) (i32.add (local.get $ga) (i32.const 12)) (f32x4.extract_lane 3 (local.get $acc)) (local.get $lo) (local.get $hi) (local.get $ring))
              (local.set $g (i32.add (local.get $g) (i32.const 1)))
              (br $gloop)))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cloop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rloop))))
)
