// Typed loads and stores into regions: `b` is a region base, `i` an element index.

// @ts-ignore: decorator
@inline export function i32At(b: usize, i: i32): i32 {
  return load<i32>(b + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline export function setI32(b: usize, i: i32, v: i32): void {
  store<i32>(b + (<usize>i << 2), v);
}

// @ts-ignore: decorator
@inline export function u32At(b: usize, i: i32): u32 {
  return load<u32>(b + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline export function f64At(b: usize, i: i32): f64 {
  return load<f64>(b + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline export function setF64(b: usize, i: i32, v: f64): void {
  store<f64>(b + (<usize>i << 3), v);
}
