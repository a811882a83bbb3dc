// Stand-in for the bundled glue under node:test: tests pass the real module to provideIsoscope().
module.exports = { default: () => Promise.reject(new Error('tests provide the module: provideIsoscope')) };
module.exports.__esModule = true;
