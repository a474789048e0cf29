// Validates Kubernetes manifests against the API's JSON schemas (kubernetes-models): types, required fields, enums.
// Prints one JSON line per document: {"file","kind","name","valid","errors","document"}; exits 1 if any is invalid.
//   npm ci && node validate.mjs ../deployment.yaml ../hpa.yaml
import { readFileSync } from "node:fs";
import yaml from "js-yaml";

let invalid = 0;
for (const file of process.argv.slice(2)) {
  for (const document of yaml.loadAll(readFileSync(file, "utf8")).filter(Boolean)) {
    const result = { file, kind: document.kind, name: document.metadata?.name ?? null, valid: true, errors: null, document };
    try {
      const [group, version] = String(document.apiVersion).includes("/") ? document.apiVersion.split("/") : ["", document.apiVersion];
      const models = await import(group === "" ? `kubernetes-models/${version}/${document.kind}` : `kubernetes-models/${group}/${version}/${document.kind}`);
      new (models[document.kind] ?? models.default)(document).validate();
    } catch (error) {
      invalid++;
      result.valid = false;
      result.errors = error.message;
    }
    console.log(JSON.stringify(result));
  }
}
process.exit(invalid ? 1 : 0);
