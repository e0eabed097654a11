// qtrip's version: package.json's, so that there is one.
import pkg from "../package.json" with { type: "json" };

export const QTRIP_VERSION: string = pkg.version;
