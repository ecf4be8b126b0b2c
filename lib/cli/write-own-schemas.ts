/** Writes schemas/json/*.schema.json from schemas/*.ts (`npm run schemas`). */
import { mkdirSync, writeFileSync } from 'node:fs'
import { ownSchemaFiles } from '../schema/own-schemas.js'

const dir = new URL('../../schemas/json/', import.meta.url)
mkdirSync(dir, { recursive: true })
for (const [file, text] of Object.entries(ownSchemaFiles())) writeFileSync(new URL(file, dir), text)
console.log(`wrote ${Object.keys(ownSchemaFiles()).length} schema files to schemas/json/`)
