// extern "C" wrapper over RDKit 2022.09.3. Every entry point catches all C++ exceptions.
#include "CRDKitShim.h"

#include <GraphMol/FileParsers/FileParsers.h>
#include <GraphMol/GraphMol.h>
#include <GraphMol/PeriodicTable.h>
#include <GraphMol/SmilesParse/SmilesParse.h>
#include <GraphMol/SmilesParse/SmilesWrite.h>
#include <RDGeneral/RDLog.h>
#include <RDGeneral/versions.h>

#include <memory>
#include <string>
#include <vector>

struct BERDMol {
  std::unique_ptr<RDKit::ROMol> mol;
  std::string smiles;
  std::string error;
  std::vector<unsigned int> order;
  /// inverse[original index] = output position
  std::vector<unsigned int> inverse;
};

namespace {

/// Writes the kekulé canonical SMILES and its atom output order into the handle.
void finishMolecule(BERDMol *handle, std::unique_ptr<RDKit::RWMol> mol, bool kekule) {
  RDKit::SmilesWriteParams params;
  params.doKekule = kekule;
  handle->smiles = RDKit::MolToSmiles(*mol, params);
  mol->getProp(RDKit::common_properties::_smilesAtomOutputOrder, handle->order);
  handle->inverse.assign(mol->getNumAtoms(), 0);
  for (unsigned int i = 0; i < handle->order.size(); ++i) {
    if (handle->order[i] < handle->inverse.size()) handle->inverse[handle->order[i]] = i;
  }
  handle->mol = std::move(mol);
}

int32_t bondCode(RDKit::Bond::BondType type) {
  switch (type) {
    case RDKit::Bond::SINGLE: return 1;
    case RDKit::Bond::DOUBLE: return 2;
    case RDKit::Bond::TRIPLE: return 3;
    case RDKit::Bond::AROMATIC: return 4;
    default: return 0;
  }
}

}  // namespace

extern "C" {

const char *berd_rdkit_version(void) { return RDKit::rdkitVersion; }

void berd_set_rdkit_logging(int32_t enabled) {
  try {
    if (enabled) {
      // RDKit's C++ loggers do not exist until InitLogs (the Python module calls it on import).
      static bool initialized = false;
      if (!initialized) {
        RDLog::InitLogs();
        initialized = true;
      }
      boost::logging::enable_logs("rdApp.*");
    } else {
      boost::logging::disable_logs("rdApp.*");
    }
  } catch (...) {
  }
}

BERDMol *berd_mol_from_molblock(const char *molblock, int32_t sanitize, int32_t remove_hs) {
  auto *handle = new BERDMol();
  try {
    if (molblock == nullptr) {
      handle->error = "no MOL block given";
      return handle;
    }
    std::unique_ptr<RDKit::RWMol> mol(
        RDKit::MolBlockToMol(std::string(molblock), sanitize != 0, remove_hs != 0, true));
    if (!mol) {
      handle->error = "RDKit could not read the MOL block (empty or truncated record)";
      return handle;
    }
    if (mol->getNumAtoms() == 0) {
      handle->error = "expected at least one atom, found a MOL block with 0 atoms (its counts line says 0)";
      return handle;
    }
    finishMolecule(handle, std::move(mol), true);
  } catch (const std::exception &e) {
    handle->error = e.what();
    if (handle->error.empty()) handle->error = "RDKit raised an exception";
    handle->mol.reset();
  } catch (...) {
    handle->error = "RDKit raised an unknown exception";
    handle->mol.reset();
  }
  return handle;
}

BERDMol *berd_mol_from_smiles(const char *smiles, int32_t kekule) {
  auto *handle = new BERDMol();
  try {
    if (smiles == nullptr) {
      handle->error = "no SMILES given";
      return handle;
    }
    std::unique_ptr<RDKit::RWMol> mol(RDKit::SmilesToMol(std::string(smiles)));
    if (!mol) {
      handle->error = "RDKit could not parse the SMILES";
      return handle;
    }
    if (mol->getNumAtoms() == 0) {
      handle->error = "expected at least one atom, found an empty SMILES";
      return handle;
    }
    finishMolecule(handle, std::move(mol), kekule != 0);
  } catch (const std::exception &e) {
    handle->error = e.what();
    if (handle->error.empty()) handle->error = "RDKit raised an exception";
    handle->mol.reset();
  } catch (...) {
    handle->error = "RDKit raised an unknown exception";
    handle->mol.reset();
  }
  return handle;
}

int32_t berd_mol_ok(const BERDMol *mol) { return mol != nullptr && mol->mol != nullptr; }

const char *berd_mol_error(const BERDMol *mol) { return mol ? mol->error.c_str() : "null handle"; }

const char *berd_mol_smiles(const BERDMol *mol) { return mol ? mol->smiles.c_str() : ""; }

int32_t berd_mol_atom_count(const BERDMol *mol) {
  return (mol && mol->mol) ? static_cast<int32_t>(mol->mol->getNumAtoms()) : 0;
}

int32_t berd_mol_output_order(const BERDMol *mol, int32_t *out, int32_t cap) {
  if (!mol) return 0;
  const int32_t n = static_cast<int32_t>(mol->order.size());
  for (int32_t i = 0; i < n && i < cap; ++i) out[i] = static_cast<int32_t>(mol->order[i]);
  return n;
}

int32_t berd_mol_atoms(const BERDMol *mol, BERDAtom *out, int32_t cap) {
  if (!mol || !mol->mol) return 0;
  try {
    const RDKit::ROMol &m = *mol->mol;
    const int32_t n = static_cast<int32_t>(mol->order.size());
    const RDKit::PeriodicTable *table = RDKit::PeriodicTable::getTable();
    const RDKit::RingInfo *rings = m.getRingInfo();
    for (int32_t i = 0; i < n && i < cap; ++i) {
      const RDKit::Atom *atom = m.getAtomWithIdx(mol->order[i]);
      BERDAtom &a = out[i];
      a.atomic_num = atom->getAtomicNum();
      a.total_degree = static_cast<int32_t>(atom->getTotalDegree());
      a.total_num_hs = static_cast<int32_t>(atom->getTotalNumHs(false));
      a.formal_charge = atom->getFormalCharge();
      a.isotope = static_cast<int32_t>(atom->getIsotope());
      a.mass = atom->getMass();
      a.delta_mass = static_cast<int32_t>(atom->getMass() - table->getAtomicWeight(atom->getAtomicNum()));
      a.in_ring = rings->numAtomRings(atom->getIdx()) > 0 ? 1 : 0;
      a.is_aromatic = atom->getIsAromatic() ? 1 : 0;
    }
    return n;
  } catch (...) {
    return -1;
  }
}

int32_t berd_mol_bonds(const BERDMol *mol, BERDBond *out, int32_t cap) {
  if (!mol || !mol->mol) return 0;
  try {
    const RDKit::ROMol &m = *mol->mol;
    const int32_t n = static_cast<int32_t>(m.getNumBonds());
    int32_t k = 0;
    for (const RDKit::Bond *bond : m.bonds()) {
      if (k < cap) {
        out[k].begin = static_cast<int32_t>(mol->inverse[bond->getBeginAtomIdx()]);
        out[k].end = static_cast<int32_t>(mol->inverse[bond->getEndAtomIdx()]);
        out[k].code = bondCode(bond->getBondType());
      }
      ++k;
    }
    return n;
  } catch (...) {
    return -1;
  }
}

int32_t berd_mol_conformer_dimension(const BERDMol *mol) {
  if (!mol || !mol->mol) return 0;
  try {
    if (mol->mol->getNumConformers() == 0) return 0;
    return mol->mol->getConformer().is3D() ? 3 : 2;
  } catch (...) {
    return 0;
  }
}

int32_t berd_mol_coords(const BERDMol *mol, double *xyz, int32_t cap) {
  if (!mol || !mol->mol) return 0;
  try {
    if (mol->mol->getNumConformers() == 0) return 0;
    const RDKit::Conformer &conf = mol->mol->getConformer();
    const int32_t n = static_cast<int32_t>(mol->order.size());
    for (int32_t i = 0; i < n && 3 * i + 2 < cap; ++i) {
      const RDGeom::Point3D &p = conf.getAtomPos(mol->order[i]);
      xyz[3 * i] = p.x;
      xyz[3 * i + 1] = p.y;
      xyz[3 * i + 2] = p.z;
    }
    return 3 * n;
  } catch (...) {
    return -1;
  }
}

void berd_mol_free(BERDMol *mol) { delete mol; }

}  // extern "C"
