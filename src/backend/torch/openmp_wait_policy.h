// How long idle OpenMP threads spin before they sleep, chosen for a server
// that shares its cores.
//
// libtorch's intra-op threads are an OpenMP (libgomp) team. Between parallel
// regions and at every barrier an idle team thread first spins, then sleeps
// on a futex. libgomp's default spin is GOMP_SPINCOUNT=300000 pause
// iterations, ~5-6 ms on a current x86 core: when another process takes one
// of the cores a team runs on, the spinning thread holds its core while the
// thread it waits for gets half of the other one, and a 2-thread ResNet-50
// took ~18x as long. Tessera's default, kTesseraSpinCount, spins ~0.2 ms:
// long enough to bridge the gap between two operators of one inference, short
// enough that a team waiting on a descheduled thread gives its core back
// (figures in docs/performance.md).
//
// libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT only once, when the
// library is loaded, before main() runs, and has no API to change them. So
// UseTesseraOpenMpWaitPolicy, called first thing in main(), sets
// GOMP_SPINCOUNT and re-executes the program (same pid, arguments and
// environment otherwise), unless the user already chose: when OMP_WAIT_POLICY
// or GOMP_SPINCOUNT is set it does nothing, so their own setting wins.
//
// This header includes no libtorch header.
#pragma once

namespace tessera {

inline constexpr const char* kTesseraSpinCount = "10000";

// REQUIRES: called before any thread starts; `argv` is main()'s. Returns when
// nothing had to change, or when re-executing failed (then libgomp keeps its
// defaults; the reason is written to stderr).
void UseTesseraOpenMpWaitPolicy(char** argv);

}  // namespace tessera
