// Minimal Reflect metadata polyfill: only what tsyringe (used by @peculiar/x509 v2)
// calls — getMetadata, getOwnMetadata, defineMetadata. Installed only when no real
// polyfill (reflect-metadata) is present, so adding that package later is harmless.
type MetaMap = Map<unknown, unknown>;
const store = new WeakMap<object, Map<string | symbol | undefined, MetaMap>>();

function own(target: object, property: string | symbol | undefined, create: boolean): MetaMap | undefined {
  let byProp = store.get(target);
  if (!byProp) {
    if (!create) return undefined;
    byProp = new Map();
    store.set(target, byProp);
  }
  let meta = byProp.get(property);
  if (!meta && create) {
    meta = new Map();
    byProp.set(property, meta);
  }
  return meta;
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  R.defineMetadata = (key: unknown, value: unknown, target: object, property?: string | symbol) => {
    own(target, property, true)!.set(key, value);
  };
  R.getOwnMetadata = (key: unknown, target: object, property?: string | symbol) => own(target, property, false)?.get(key);
  R.getMetadata = (key: unknown, target: object, property?: string | symbol) => {
    // Walk the prototype chain like reflect-metadata does.
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) {
      const meta = own(t, property, false);
      if (meta?.has(key)) return meta.get(key);
    }
    return undefined;
  };
  R.hasOwnMetadata = (key: unknown, target: object, property?: string | symbol) => Boolean(own(target, property, false)?.has(key));
  R.metadata = (key: unknown, value: unknown) => (target: object, property?: string | symbol) => {
    own(target, property, true)!.set(key, value);
  };
}

export {};
