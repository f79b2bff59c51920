/**
 * Preloaded (`node --import`) into a service process that runs with `--cpu-prof` during
 * `npm run bench -- --profile`: SIGUSR2 makes it exit normally, which is when Node writes the
 * profile. (On SIGTERM the service's shutdown hooks end by re-raising the signal, and a process
 * killed by a signal writes no profile.)
 */
process.once('SIGUSR2', () => process.exit(0));
