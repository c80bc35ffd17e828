// Package benchpeer runs peer tools (find, fd) on a tree in the same run as Cairn's own
// measurements, so benchmarks can report ratios measured on the same machine, cache state and
// load rather than absolute times on a shared machine.
//
// Run starts a command, counts its output lines as they stream through a fixed buffer (millions
// of paths are never held in memory) and reports the wall time from start to exit, the line
// count and the child's peak RSS. Find and Fd are the two walkers Cairn is compared with; both
// list every entry below the directory (not the directory itself) without following symlinks,
// so on the same tree they print the same number of lines, equal to Cairn's files + directories +
// symlinks. Repeat runs a measurement several times and keeps the best or median run.
//
// # Peak RSS
//
// Result.PeakRSS starts from the child's rusage (ProcessState.SysUsage().(*syscall.Rusage).Maxrss),
// but Go starts children with vfork (CLONE_VM), and Linux carries the parent's peak RSS into the
// child's maxrss at exec: a 300 MiB benchmark process makes a 3 MiB find report 300 MiB. So Run
// also samples the child's VmHWM from /proc/PID/status, once as soon as it has started and then
// every few milliseconds, and, when the rusage figure does not exceed the parent's own peak (so it
// may be the parent's), reports the sampled high-water mark instead. The sample misses at most the
// growth in the child's last milliseconds; the rusage figure, when used, is exact. A child that
// exits before its first sample (one with less output than a pipe holds, on a busy machine) keeps
// the rusage figure.
//
// # Cold caches
//
// DropCaches empties the page cache for cold-cache runs. It needs root and a writable
// /proc/sys/vm/drop_caches, and it slows down everything else on the machine until the caches
// refill, so tests do not call it unless CAIRN_TEST_DROP_CACHES=1 or CI=true.
package benchpeer
