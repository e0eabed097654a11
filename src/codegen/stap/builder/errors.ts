// The one error of a build: what is missing or what failed, said in one clear
// message; the CLI prints it and exits 1. Kept apart so that the CLI knows it
// without loading the builder (which `qtrip build` alone loads).
export class BuildError extends Error {}
