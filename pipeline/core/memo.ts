/**
 * f with its result kept per distinct argument (compared as Map keys). For per-row work on
 * columns that take a handful of values, such as normalising a million customers' industry or
 * role spellings: each spelling is handled once.
 */
export function perValue<K, V>(f: (key: K) => V): (key: K) => V {
  const seen = new Map<K, V>();
  return (key) => {
    if (seen.has(key)) return seen.get(key)!;
    const value = f(key);
    seen.set(key, value);
    return value;
  };
}
