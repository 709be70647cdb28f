// The OCI runtime-spec's own JSON schemas (Debian's golang-github-opencontainers-specs-dev) as
// test oracles for berth's state output and its default config.json.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv-draft-04';

// The package is CommonJS with a default export; under NodeNext its class sits on .default.
const Ajv = AjvModule.default;
import { OCI_SCHEMA_DIR } from './paths.js';

export type Validate = (value: unknown) => string | undefined;

function compile(file: string): Validate {
  // draft-04 schemas with relative $refs between files: register every file under its name.
  const ajv = new Ajv({ allErrors: true, strict: false });
  for (const name of readdirSync(OCI_SCHEMA_DIR).filter((n) => n.endsWith('.json'))) {
    const schema = JSON.parse(readFileSync(join(OCI_SCHEMA_DIR, name), 'utf8')) as Record<string, unknown>;
    delete schema.id;
    delete schema.$id;
    ajv.addSchema(schema, name);
  }
  const validate = ajv.getSchema(file);
  if (!validate) throw new Error(`schema ${file} not found in ${OCI_SCHEMA_DIR}`);
  return (value) => (validate(value) ? undefined : ajv.errorsText(validate.errors));
}

export const validateState = (): Validate => compile('state-schema.json');
export const validateConfig = (): Validate => compile('config-schema.json');
