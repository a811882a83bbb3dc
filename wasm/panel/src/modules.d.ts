declare module '*.wasm' {
  const url: string;
  export default url;
}
declare module 'isoscope-wasm/isoscope_core.wasm' {
  const url: string;
  export default url;
}
declare module 'isoscope-wasm/isoscope_core.mjs' {
  export * from '../../isoscope';
  export { default } from '../../isoscope';
}
declare module 'amd-module' {
  const m: { uri?: string } | undefined;
  export default m;
}
