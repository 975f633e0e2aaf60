#!/usr/bin/env bash
# Regenerates the checked-in seed corpora under fuzz/corpus/ with the openssl CLI.
#
# Every key made here is a throwaway test key: the CA keys are deleted when the script ends, and
# the only keys written into the corpus (fuzz/corpus/private_key/) exist to be parsed by the
# fuzzer. None of them is used anywhere else. Run from anywhere: fuzz/make_seeds.sh
set -euo pipefail
cd "$(dirname "$0")"
out="$PWD/corpus"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# The passphrase fuzz_private_key.cc tries on encrypted keys.
pass="fuzz-passphrase"
spiffe="spiffe://tether.internal/tenant/acme/connector/edge-1"

# Only the directories made here: the other seeds (gateway_config, limbo_case, ...) are kept.
rm -rf "$out"/{certificate,csr,chain,crl,pem_blocks,private_key}
mkdir -p "$out"/{certificate,csr,chain,crl,pem_blocks,private_key}

# A tether-shaped PKI: root -> issuing intermediate (pathlen 0) -> connector leaves.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out root.key 2>/dev/null
openssl req -x509 -new -key root.key -subj "/O=tether/CN=tether Root CA" -days 3650 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out root.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out issuing.key 2>/dev/null
openssl req -new -key issuing.key -subj "/O=tether/CN=tether Connector CA" -out issuing.csr
printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign" \
  "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >issuing.ext
openssl x509 -req -in issuing.csr -CA root.pem -CAkey root.key -set_serial 0x1001 -days 1825 \
  -extfile issuing.ext -out issuing.pem 2>/dev/null

leaf_ext() {
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,$1" \
    "extendedKeyUsage=clientAuth" "subjectAltName=URI:$spiffe" "subjectKeyIdentifier=hash" \
    "authorityKeyIdentifier=keyid"
}
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out leaf-ec.key 2>/dev/null
openssl req -new -key leaf-ec.key -subj "/CN=connector\/acme\/edge-1" \
  -addext "subjectAltName=URI:$spiffe" -out leaf-ec.csr
leaf_ext digitalSignature >leaf-ec.ext
openssl x509 -req -in leaf-ec.csr -CA issuing.pem -CAkey issuing.key \
  -set_serial 0x7a3f0c1d2e4b5a69788796a5b4c3d2e1 -days 365 -extfile leaf-ec.ext \
  -out leaf-ec.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out leaf-rsa.key 2>/dev/null
openssl req -new -key leaf-rsa.key -subj "/CN=connector\/acme\/edge-2" -out leaf-rsa.csr
leaf_ext digitalSignature,keyEncipherment >leaf-rsa.ext
openssl x509 -req -in leaf-rsa.csr -CA issuing.pem -CAkey issuing.key -set_serial 0x2002 \
  -days 365 -extfile leaf-rsa.ext -out leaf-rsa.pem 2>/dev/null
der() { openssl x509 -in "$1" -outform DER; }

# Certificates: PEM and DER, CA and leaf, EC and RSA, plus a PEM file holding two.
cp root.pem "$out/certificate/root.pem"
der root.pem >"$out/certificate/root.der"
cp leaf-ec.pem "$out/certificate/leaf-ec.pem"
der leaf-ec.pem >"$out/certificate/leaf-ec.der"
der leaf-rsa.pem >"$out/certificate/leaf-rsa.der"
cat leaf-ec.pem issuing.pem >"$out/certificate/two.pem"

# CSRs: with the identity tether expects (CN + SPIFFE URI SAN), RSA as DER, empty subject, and a
# "NEW CERTIFICATE REQUEST" label.
cp leaf-ec.csr "$out/csr/connector-ec.pem"
openssl req -in leaf-rsa.csr -outform DER -out "$out/csr/connector-rsa.der"
openssl req -new -key leaf-ec.key -subj "/" -out "$out/csr/empty-subject.pem" 2>/dev/null
sed 's/CERTIFICATE REQUEST/NEW CERTIFICATE REQUEST/' leaf-ec.csr >"$out/csr/new-label.pem"

# Chains: leaf + issuer (2 certs), leaf + issuer + root, and a lone self-signed root.
cat leaf-ec.pem issuing.pem >"$out/chain/chain2.pem"
cat leaf-rsa.pem issuing.pem root.pem >"$out/chain/chain3.pem"
cp root.pem "$out/chain/root.pem"
# Regression seed: a CERTIFICATE block whose base64 decodes to a whole PEM file (check_chain once
# accepted it as that file's first certificate).
{ echo "-----BEGIN CERTIFICATE-----"; base64 -w64 "$out/chain/chain2.pem"; echo "-----END CERTIFICATE-----"; } \
  >"$out/chain/nested-pem.pem"

# CRL: v2, signed by the issuing CA, two entries with reason codes, crlNumber.
mkdir -p ca/newcerts && : >ca/index.txt && echo 01 >ca/crlnumber && echo 3003 >ca/serial
cat >ca.cnf <<EOF
[ca]
default_ca = tether
[tether]
database = $work/ca/index.txt
serial = $work/ca/serial
unique_subject = no
policy = policy_any
crlnumber = $work/ca/crlnumber
new_certs_dir = $work/ca/newcerts
default_md = sha256
default_crl_days = 7
crl_extensions = crl_ext
[policy_any]
commonName = supplied
[crl_ext]
authorityKeyIdentifier = keyid
EOF
openssl ca -config ca.cnf -cert issuing.pem -keyfile issuing.key -revoke leaf-ec.pem \
  -crl_reason keyCompromise 2>/dev/null
openssl ca -config ca.cnf -cert issuing.pem -keyfile issuing.key -revoke leaf-rsa.pem \
  -crl_reason superseded 2>/dev/null
openssl ca -config ca.cnf -cert issuing.pem -keyfile issuing.key -gencrl -out crl.pem 2>/dev/null
cp crl.pem "$out/crl/crl.pem"
openssl crl -in crl.pem -outform DER -out "$out/crl/crl.der"

# A certificate valid from the year 950 (GeneralizedTime): exercises time conversion and the
# RFC 3339 formatting of years before 1000 (see README.md, "Known findings").
openssl ca -batch -config ca.cnf -cert issuing.pem -keyfile issuing.key -in leaf-ec.csr -notext \
  -startdate 09500101000000Z -enddate 20300101000000Z -out "$out/certificate/year-950.pem" 2>/dev/null

# Private keys (test keys, see above): PKCS#8 plain (EC, RSA-1024 to stay small, Ed25519),
# PKCS#8 encrypted with the fuzz passphrase (PBKDF2, one iteration so each run is cheap), and
# the traditional SEC1 / PKCS#1 forms, one of them with a legacy DEK-Info header.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/private_key/ec.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa.key 2>/dev/null
cp rsa.key "$out/private_key/rsa1024.pem"
openssl genpkey -algorithm ED25519 -out "$out/private_key/ed25519.pem"
openssl pkcs8 -topk8 -in "$out/private_key/ec.pem" -v2 aes-256-cbc -iter 1 \
  -passout "pass:$pass" -out "$out/private_key/ec-encrypted.pem"
openssl ec -in "$out/private_key/ec.pem" -out "$out/private_key/ec-sec1.pem" 2>/dev/null
openssl rsa -in rsa.key -traditional -aes128 -passout "pass:$pass" \
  -out "$out/private_key/rsa-legacy-encrypted.pem" 2>/dev/null

# PEM blocks: several labels in one file, a block with headers, text around the blocks.
cat leaf-ec.pem leaf-ec.csr crl.pem >"$out/pem_blocks/mixed.pem"
cp "$out/private_key/rsa-legacy-encrypted.pem" "$out/pem_blocks/headers.pem"
{ echo "Subject: tether Root CA"; cat root.pem; echo "trailing text"; } >"$out/pem_blocks/text-around.pem"
cp "$out/chain/chain2.pem" "$out/pem_blocks/chain2.pem"

find "$out" -type f | sort | sed "s|^$out/||"
