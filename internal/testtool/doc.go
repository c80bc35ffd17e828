// Package testtool lets tests that compare with an external tool (ffmpeg, exiftool, b3sum, …)
// say what they need: on a machine without the tool the test skips with one line naming the
// Debian package; under CI=true, where .ci/run installs every such package, a missing tool is a
// failure, so a comparison can never silently stop running in CI.
package testtool
