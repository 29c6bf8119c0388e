// Helpers shared by the kernels that accumulate four f32 lanes at a time.

/** lanes[0] + lanes[1] + (lanes[2] + lanes[3]): a four-lane accumulator's total, in that order. */
@inline
export function sumLanes(lanes: v128): f32 {
  return (
    f32x4.extract_lane(lanes, 0) +
    f32x4.extract_lane(lanes, 1) +
    (f32x4.extract_lane(lanes, 2) + f32x4.extract_lane(lanes, 3))
  );
}
