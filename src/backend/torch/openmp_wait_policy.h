// How idle OpenMP threads wait, chosen for a server that shares its cores.
//
// libtorch's intra-op threads are an OpenMP (libgomp) team. Between parallel
// regions and at every barrier an idle team thread first spins, then sleeps
// on a futex. libgomp's default spin is GOMP_SPINCOUNT=300000 pause
// iterations, ~5-6 ms on a current x86 core. When another process takes one
// of the cores a team runs on, the spinning thread holds its core while the
// thread it waits for gets half of the other one: a 2-thread ResNet-50 took
// ~18x as long. With OMP_WAIT_POLICY=PASSIVE (no spinning) a waiting thread
// gives its core back at once, and the team's latency under that load grows
// about as much as losing a core costs; on an idle machine it pays a futex
// wake-up per parallel region instead (figures in docs/performance.md). One
// intra-op thread per model (Tessera's default) has no team and is not
// affected either way.
//
// libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT only once, when the
// library is loaded, before main() runs, and has no API to change them. So
// UseTesseraOpenMpWaitPolicy, called first thing in main(), sets
// OMP_WAIT_POLICY=PASSIVE and re-executes the program (same pid, arguments
// and environment otherwise), unless the user already chose: when
// OMP_WAIT_POLICY or GOMP_SPINCOUNT is set it does nothing, so their setting
// wins (OMP_WAIT_POLICY=ACTIVE, or GOMP_SPINCOUNT=300000 for libgomp's own
// default, on a machine where the server has its cores to itself).
//
// This header includes no libtorch header.
#pragma once

namespace tessera {

inline constexpr const char* kTesseraWaitPolicy = "PASSIVE";

// REQUIRES: called before any thread starts; `argv` is main()'s. Returns when
// nothing had to change, or when re-executing failed (then libgomp keeps its
// defaults; the reason is written to stderr).
void UseTesseraOpenMpWaitPolicy(char** argv);

}  // namespace tessera
