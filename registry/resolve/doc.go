// Package resolve chooses extension versions from a registry index: the highest release that
// satisfies every semver constraint on it (requests, dependencies of the other choices, and the
// host's ABI and kernel), keeping installed versions where they still fit, and orders the
// result so dependencies come before their dependents. Conflicts are reported naming the
// constraints that clash; dependency cycles are refused.
package resolve
