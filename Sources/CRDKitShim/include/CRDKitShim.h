#pragma once
/* A small C API over Debian's RDKit 2022.09.3 (librdkit-dev). Plain C types only: Swift imports
 * it as an ordinary C module. No C++ exception crosses this boundary; failures come back as a
 * status plus a message owned by the handle. Array getters follow n = f(h, out, cap): they write
 * min(n, cap) items and return n (-1 when RDKit raised), so a call with cap 0 sizes the buffer. */
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct BERDMol BERDMol;

/** Per-atom RDKit properties, in SMILES output order (E3FP's rdkit invariants and more). */
typedef struct {
  int32_t atomic_num, total_degree, total_num_hs, formal_charge, isotope;
  /** (int)(getMass() - standard atomic weight), truncated toward zero like Python int(). */
  int32_t delta_mass;
  int32_t in_ring, is_aromatic;
  double mass;
} BERDAtom;

/** A bond between atoms given in SMILES output order; code 1 single, 2 double, 3 triple,
 *  4 aromatic, 0 any other RDKit bond type. */
typedef struct {
  int32_t begin, end, code;
} BERDBond;

/** The RDKit release this shim was built against, e.g. "2022.09.3". */
const char *berd_rdkit_version(void);

/** Turns RDKit's own stderr logging (rdApp.*) off or on. */
void berd_set_rdkit_logging(int32_t enabled);

/** Parses one MOL block (V2000 or V3000) as SDMolSupplier does by default (sanitize, remove Hs)
 *  when sanitize = remove_hs = 1. Never returns NULL; check berd_mol_ok. */
BERDMol *berd_mol_from_molblock(const char *molblock, int32_t sanitize, int32_t remove_hs);
/** Parses a SMILES string (sanitized); smiles() is then its canonical SMILES (kekulé if asked). */
BERDMol *berd_mol_from_smiles(const char *smiles, int32_t kekule);
int32_t berd_mol_ok(const BERDMol *mol);
/** The error message when berd_mol_ok is 0; owned by the handle. */
const char *berd_mol_error(const BERDMol *mol);
/** Kekulé canonical SMILES (MolToSmiles with kekuleSmiles = true); owned by the handle. */
const char *berd_mol_smiles(const BERDMol *mol);
/** Number of atoms in the parsed molecule. */
int32_t berd_mol_atom_count(const BERDMol *mol);
/** The SMILES atom output order: writes min(n, cap) entries and returns n. */
int32_t berd_mol_output_order(const BERDMol *mol, int32_t *out, int32_t cap);
/** Atom properties in SMILES output order. */
int32_t berd_mol_atoms(const BERDMol *mol, BERDAtom *out, int32_t cap);
/** All bonds, endpoints renumbered to SMILES output order. */
int32_t berd_mol_bonds(const BERDMol *mol, BERDBond *out, int32_t cap);
/** 3 when the first conformer is 3D, 2 when 2D, 0 when there is none. */
int32_t berd_mol_conformer_dimension(const BERDMol *mol);
/** Conformer-0 coordinates (Å) in SMILES output order, x y z per atom: returns 3 * atoms. */
int32_t berd_mol_coords(const BERDMol *mol, double *xyz, int32_t cap);
void berd_mol_free(BERDMol *mol);

/** Conformers of a SMILES molecule, as RDKit's Python `AllChem.EmbedMultipleConfs` makes them. */
typedef struct BERDEmbedding BERDEmbedding;

/** Parses `smiles`, adds hydrogens and embeds `conformers` ETKDGv3 conformers with
 *  randomSeed = seed and maxIterations = attempts (0: RDKit's default), then optimizes each with
 *  MMFF94 (200 iterations) when mmff != 0. Gives up after timeout_s seconds (0: no limit). Never
 *  returns NULL; berd_embedding_count is -1 with berd_embedding_error set on failure. */
BERDEmbedding *berd_embed_smiles(const char *smiles, int32_t seed, int32_t conformers, int32_t mmff, int32_t attempts,
                                 double timeout_s);
/** Conformers embedded (may be fewer than asked, 0 when none), -1 on error. */
int32_t berd_embedding_count(const BERDEmbedding *embedding);
const char *berd_embedding_error(const BERDEmbedding *embedding);
/** The MOL block (V2000, with hydrogens) of conformer k, as Chem.MolToMolBlock(mol, confId=k). */
const char *berd_embedding_molblock(BERDEmbedding *embedding, int32_t k);
void berd_embedding_free(BERDEmbedding *embedding);

#ifdef __cplusplus
}
#endif
