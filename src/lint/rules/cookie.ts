/**
 * plain-text-cookie: the cookie is the cluster's only password. It belongs in a Secret
 * (`secretKeyRef`), never in an env value, a ConfigMap or a `-setcookie` argument (visible in
 * `kubectl get -o yaml`, `ps` and the image history). Findings never include the value.
 */
import { shellWords } from '../shell.js';
import type { Finding } from '../types.js';
import { finding, type Rule } from './context.js';

// RELEASE_COOKIE, ERLANG_COOKIE, COOKIE, MYAPP_COOKIE; not ERLANG_COOKIE_FILE (a path).
const COOKIE_VAR = /(^|_)COOKIE$/i;
const COOKIE_KEY = /(^|[._-])cookie$|^(RELEASE_COOKIE|ERLANG_COOKIE)$/i;
const FLAG_VARS = ['ERL_FLAGS', 'ERL_AFLAGS', 'ERL_ZFLAGS', 'ELIXIR_ERL_OPTIONS'];
const FIX = 'keep the cookie in a Secret: env RELEASE_COOKIE with valueFrom.secretKeyRef (or -setcookie "$(RELEASE_COOKIE)" / --cookie "$(RELEASE_COOKIE)" from such a variable)';

/** The word after -setcookie / --cookie, when it is written out (no variable). */
function literalCookieFlag(words: readonly string[]): string | undefined {
  const i = words.findIndex((w) => w === '-setcookie' || w === '--cookie');
  if (i < 0) return undefined;
  const v = words[i + 1];
  return v !== undefined && !v.startsWith('-') && !v.includes('$') ? words[i] : undefined;
}

export const plainTextCookie: Rule = (ctx) => {
  const out: Finding[] = [];
  const referencedConfigMaps = new Set<string>();
  for (const b of ctx.beam) {
    const o = b.template.object;
    for (const a of b.beam) {
      const cname = a.container.name;
      for (const e of a.env) {
        if (!COOKIE_VAR.test(e.name)) continue;
        if (e.source === 'literal' && e.value && !/\$\(/.test(e.value)) {
          out.push(finding('plain-text-cookie', 'error', o, `env ${e.name} holds the cookie as a plain value in the manifest`, FIX, cname));
        } else if (e.source === 'configmap') {
          if (e.ref) referencedConfigMaps.add(`${o.namespace}/${e.ref}`);
          out.push(finding('plain-text-cookie', 'error', o, `env ${e.name} takes the cookie from ConfigMap/${e.ref ?? '?'}: ConfigMaps are not secret`, FIX, cname));
        }
      }
      const argvFlag = literalCookieFlag(a.script !== undefined ? shellWords(a.script) : a.argv);
      if (argvFlag) out.push(finding('plain-text-cookie', 'error', o, `the command line passes ${argvFlag} with the cookie written out`, FIX, cname));
      const vmArgsFlag = literalCookieFlag(a.config.vmArgs);
      if (vmArgsFlag) out.push(finding('plain-text-cookie', 'error', o, `the vm.args mounted from ${a.config.vmArgsFrom ?? 'a ConfigMap'} passes ${vmArgsFlag} with the cookie written out: ConfigMaps are not secret`, FIX, cname));
      for (const [k, v] of a.config.vars) {
        if (COOKIE_VAR.test(k) && v && !v.includes('$')) out.push(finding('plain-text-cookie', 'error', o, `${a.config.varFrom.get(k) ?? 'a mounted script'} sets ${k} to a written-out cookie: ConfigMaps are not secret`, FIX, cname));
      }
      for (const v of FLAG_VARS) {
        const e = a.envByName.get(v);
        const text = a.scriptVars.get(v) ?? e?.value;
        if (!text) continue;
        const flag = literalCookieFlag(shellWords(text));
        if (flag) out.push(finding('plain-text-cookie', 'error', o, `${v} passes ${flag} with the cookie written out`, FIX, cname));
      }
    }
  }
  for (const [key, data] of ctx.set.configMaps) {
    if (referencedConfigMaps.has(key)) continue;
    const cookieKeys = Object.keys(data).filter((k) => COOKIE_KEY.test(k));
    if (cookieKeys.length === 0) continue;
    const cm = ctx.set.objects.find((x) => x.kind === 'ConfigMap' && `${x.namespace}/${x.name}` === key);
    if (cm) out.push(finding('plain-text-cookie', 'error', cm, `ConfigMap key ${cookieKeys.join(', ')} looks like an Erlang cookie: ConfigMaps are not secret`, 'move it to a Secret (kubectl create secret generic … --from-literal=cookie=…) and mount or reference that'));
  }
  return out;
};

/**
 * cookie-not-shared: RabbitMQ given no cookie creates a random one in
 * /var/lib/rabbitmq/.erlang.cookie at first boot (RabbitMQ clustering guide), so each pod of a
 * replicated set has its own and none can connect to another. Only reported when nothing in the
 * pod could bring one: no cookie variable, no opaque envFrom, no -setcookie, no Secret volume.
 */
export const cookieNotShared: Rule = (ctx) => {
  const out: Finding[] = [];
  for (const b of ctx.beam) {
    const t = b.template;
    if (t.replicas <= 1) continue;
    const secretVolume = (t.spec.volumes ?? []).some((v) => v.secret || v.projected?.sources?.some((s) => s.secret));
    for (const a of b.beam) {
      if (a.product?.name !== 'RabbitMQ' || secretVolume || a.opaqueEnv) continue;
      if (a.env.some((e) => COOKIE_VAR.test(e.name)) || [...a.scriptVars.keys()].some((k) => COOKIE_VAR.test(k))) continue;
      if (a.words.includes('-setcookie') || (a.envByName.get('RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS')?.value ?? '').includes('-setcookie')) continue;
      out.push(
        finding('cookie-not-shared', 'error', t.object, `RabbitMQ gets no Erlang cookie here (no RABBITMQ_ERLANG_COOKIE, no Secret mounted as /var/lib/rabbitmq/.erlang.cookie): each of the ${t.replicas} pods creates its own random cookie at first boot, and no node can connect to another`, 'put one cookie in a Secret and give it to every pod: env RABBITMQ_ERLANG_COOKIE from secretKeyRef, or the Secret mounted at /var/lib/rabbitmq/.erlang.cookie (mode 0400)', a.container.name),
      );
    }
  }
  return out;
};
