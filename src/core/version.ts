// berth's version (kept equal to package.json's by a unit test) and the OCI spec it speaks.
export const BERTH_VERSION = '0.8.0';
export const OCI_SPEC_VERSION = '1.0.2';
