// CRC-32 of two byte strings joined, from the CRC-32 of each and the length of the second, without the
// bytes: what zlib's crc32_combine computes, which Node does not expose. Appending n zero bits to the
// message multiplies its CRC register by a fixed matrix over GF(2); the matrix for n is built by
// squaring the one-bit operator, so the cost is O(log n) 32 x 32 products.

const POLYNOMIAL = 0xedb88320;

/** The matrix times a vector: the XOR of the columns the vector's set bits select. */
function times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  for (let i = 0, v = vector >>> 0; v !== 0; i++, v >>>= 1) if (v & 1) sum ^= matrix[i]!;
  return sum >>> 0;
}

function square(matrix: Uint32Array): Uint32Array {
  const result = new Uint32Array(32);
  for (let i = 0; i < 32; i++) result[i] = times(matrix, matrix[i]!);
  return result;
}

export function crc32Combine(crc1: number, crc2: number, length2: number): number {
  if (length2 <= 0) return crc1 >>> 0;
  // The operator for one zero bit: shift right, folding in the polynomial when the low bit falls out.
  let operator: Uint32Array = new Uint32Array(32);
  operator[0] = POLYNOMIAL;
  for (let i = 1; i < 32; i++) operator[i] = (1 << (i - 1)) >>> 0;
  operator = square(square(operator)); // four zero bits
  let crc = crc1 >>> 0;
  for (let bytes = length2; bytes > 0; bytes = Math.floor(bytes / 2)) {
    operator = square(operator); // 8 x 2^k zero bits, k counting the loop
    if (bytes % 2 === 1) crc = times(operator, crc);
  }
  return (crc ^ crc2) >>> 0;
}
