import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'node_modules/**', '.tap/**', '.scratch/**']
  }),
  {
    // The wire contract's field names are snake_case (event_type, patient_id...).
    rules: { camelcase: 'off' }
  },
  {
    // TypeBox's own shape: a schema constant and its Static type share one name.
    files: ['schemas/**/*.ts'],
    rules: { '@typescript-eslint/no-redeclare': 'off' }
  }
]
