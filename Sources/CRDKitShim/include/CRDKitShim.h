#pragma once
/* A small C API over Debian's RDKit 2022.09.3 (librdkit-dev). Plain C types only: Swift imports
 * it as an ordinary C module. No C++ exception crosses this boundary; failures come back as a
 * status plus a message owned by the handle. */
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct BERDMol BERDMol;

/** The RDKit release this shim was built against, e.g. "2022.09.3". */
const char *berd_rdkit_version(void);

/** Turns RDKit's own stderr logging (rdApp.*) off or on. */
void berd_set_rdkit_logging(int32_t enabled);

/** Parses one MOL block (V2000 or V3000) as SDMolSupplier does by default (sanitize, remove Hs)
 *  when sanitize = remove_hs = 1. Never returns NULL; check berd_mol_ok. */
BERDMol *berd_mol_from_molblock(const char *molblock, int32_t sanitize, int32_t remove_hs);
int32_t berd_mol_ok(const BERDMol *mol);
/** The error message when berd_mol_ok is 0; owned by the handle. */
const char *berd_mol_error(const BERDMol *mol);
/** Kekulé canonical SMILES (MolToSmiles with kekuleSmiles = true); owned by the handle. */
const char *berd_mol_smiles(const BERDMol *mol);
/** Number of atoms in the parsed molecule. */
int32_t berd_mol_atom_count(const BERDMol *mol);
/** The SMILES atom output order: writes min(n, cap) entries and returns n. */
int32_t berd_mol_output_order(const BERDMol *mol, int32_t *out, int32_t cap);
void berd_mol_free(BERDMol *mol);

#ifdef __cplusplus
}
#endif
