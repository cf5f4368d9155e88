/**
 * A throwaway certificate authority and a server certificate for 127.0.0.1 and localhost,
 * made with `openssl` for one test run (nothing is committed): for clients that dial `wss://`
 * only (the openai SDK's realtime clients). Deno refuses a self-signed leaf that is its own
 * CA, hence a CA and a leaf.
 *
 * @module
 */

/** A CA and a leaf signed by it, PEM, with the files they are in. */
export interface TestTls {
  /** The CA's certificate (what a client trusts). */
  ca: string;
  /** Its path, for `deno run --cert`. */
  caPath: string;
  /** The server's certificate. */
  cert: string;
  /** The server's private key. */
  key: string;
  /** Removes the files. */
  remove(): Promise<void>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(stderr)}`);
}

/** Makes a CA and a leaf for 127.0.0.1 and localhost, valid for a day. */
export async function makeTestTls(): Promise<TestTls> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-tls-" });
  const subject = (cn: string) => ["-subj", `/CN=${cn}`];
  await openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-keyout",
    "ca-key.pem",
    "-out",
    "ca.pem",
    ...subject("keyward test CA"),
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=keyCertSign",
  ]);
  await openssl(dir, [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "key.pem",
    "-out",
    "leaf.csr",
    ...subject("127.0.0.1"),
  ]);
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
      "extendedKeyUsage=serverAuth\n",
  );
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca-key.pem",
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    "ext.cnf",
    "-out",
    "cert.pem",
  ]);
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  return {
    ca: await read("ca.pem"),
    caPath: `${dir}/ca.pem`,
    cert: await read("cert.pem"),
    key: await read("key.pem"),
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}
