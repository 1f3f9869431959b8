// The JS codecs under test, each behind the same small adapter:
//   { name, label, available, reason?, decode(buf) → value, encode(value) → bytes, fallbackToV1 }
// A library that cannot load is still listed (available: false, with the reason), so the table
// shows "n/a (reason)" instead of the run stopping.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

function unavailable(name, label, reason) {
  return { name, label, available: false, reason };
}

/** beamnode's codec as built by `npm run build` (dist/etf/index.js). */
async function loadBeamnode(distDir) {
  const entry = join(distDir, 'etf', 'index.js');
  if (!existsSync(entry)) {
    const reason = `${entry} missing: run npm run build`;
    return [unavailable('beamnode', 'beamnode', reason), unavailable('beamnode-objects', 'beamnode objects+strings', reason),
      unavailable('beamnode-pack', 'beamnode pack/unpack', reason)];
  }
  let etf;
  try {
    etf = await import(pathToFileURL(entry).href);
  } catch (err) {
    const reason = `cannot import ${entry}: ${err.message}`;
    return [unavailable('beamnode', 'beamnode', reason), unavailable('beamnode-objects', 'beamnode objects+strings', reason),
      unavailable('beamnode-pack', 'beamnode pack/unpack', reason)];
  }
  const libs = [];
  if (typeof etf.decode === 'function' && typeof etf.encode === 'function') {
    libs.push({
      name: 'beamnode',
      label: 'beamnode',
      available: true,
      decode: (buf) => etf.decode(buf),
      encode: (value) => etf.encode(value),
    });
  } else {
    libs.push(unavailable('beamnode', 'beamnode', 'dist/etf/index.js does not export decode/encode yet'));
  }
  // The same codec with the convenience options (plain objects for maps, strings for binaries),
  // to show what the default representation (Map, Buffer views) costs.
  const objectOptions = { mapsAsObjects: true, binariesAsStrings: true };
  libs.push(typeof etf.decode === 'function' && typeof etf.encode === 'function'
    ? {
      name: 'beamnode-objects',
      label: 'beamnode objects+strings',
      available: true,
      decode: (buf) => etf.decode(buf, objectOptions),
      encode: (value) => etf.encode(value),
    }
    : unavailable('beamnode-objects', 'beamnode objects+strings', 'dist/etf/index.js does not export decode/encode yet'));
  if (typeof etf.pack === 'function' && typeof etf.unpack === 'function') {
    libs.push({
      name: 'beamnode-pack',
      label: 'beamnode pack/unpack',
      available: true,
      decode: (buf) => etf.unpack(buf),
      encode: (value) => etf.pack(value),
    });
  } else {
    libs.push(unavailable('beamnode-pack', 'beamnode pack/unpack', 'dist/etf/index.js does not export pack/unpack yet'));
  }
  return libs;
}

/** erlpack: a native addon built at install time (npm 11 builds it only when allowScripts allows). */
function loadErlpack() {
  let pkgDir;
  try {
    pkgDir = join(require.resolve('erlpack/package.json'), '..');
  } catch {
    return unavailable('erlpack', 'erlpack', 'not installed (npm install)');
  }
  if (!existsSync(join(pkgDir, 'build', 'Release', 'erlpack.node'))) {
    return unavailable('erlpack', 'erlpack', 'native addon not built: run `npm rebuild erlpack`');
  }
  let erlpack;
  try {
    erlpack = require('erlpack');
  } catch (err) {
    return unavailable('erlpack', 'erlpack', `cannot load the addon (${err.message}); try \`npm rebuild erlpack\``);
  }
  return {
    name: 'erlpack',
    label: 'erlpack',
    available: true,
    // erlpack rejects SMALL_ATOM_UTF8_EXT/ATOM_UTF8_EXT, which minor_version 2 writes for every
    // atom; it then reads the same term as term_to_binary(T, [{minor_version, 1}]) wrote it.
    fallbackToV1: true,
    decode: (buf) => erlpack.unpack(buf),
    encode: (value) => erlpack.pack(value),
  };
}

/** erlang_js: pure JS, callback style (the callbacks run synchronously for uncompressed terms). */
function loadErlangJs() {
  let Erlang;
  try {
    ({ Erlang } = require('erlang_js'));
  } catch (err) {
    return unavailable('erlang_js', 'erlang_js', `not installed (${err.message.split('\n')[0]})`);
  }
  const viaCallback = (call) => {
    let error;
    let result;
    call((err, value) => {
      error = err;
      result = value;
    });
    if (error) throw error;
    return result;
  };
  return {
    name: 'erlang_js',
    label: 'erlang_js',
    available: true,
    decode: (buf) => viaCallback((cb) => Erlang.binary_to_term(buf, cb)),
    encode: (value) => viaCallback((cb) => Erlang.term_to_binary(value, cb)),
  };
}

/** All JS libraries, in table order. */
export async function loadLibraries(distDir) {
  return [...(await loadBeamnode(distDir)), loadErlpack(), loadErlangJs()];
}
