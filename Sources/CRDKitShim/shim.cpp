// extern "C" wrapper over RDKit 2022.09.3. Every entry point catches all C++ exceptions.
#include "CRDKitShim.h"

#include <GraphMol/DistGeomHelpers/Embedder.h>
#include <GraphMol/FileParsers/FileParsers.h>
#include <GraphMol/ForceFieldHelpers/MMFF/MMFF.h>
#include <GraphMol/MolOps.h>
#include <GraphMol/GraphMol.h>
#include <GraphMol/PeriodicTable.h>
#include <GraphMol/SmilesParse/SmilesParse.h>
#include <GraphMol/SmilesParse/SmilesWrite.h>
#include <RDGeneral/RDLog.h>
#include <RDGeneral/versions.h>

#include <chrono>
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

struct BERDEmbedding {
  std::unique_ptr<RDKit::RWMol> mol;
  std::vector<int> ids;
  std::string error;
  std::string block;
  int32_t count = -1;
};

namespace {

/// The embedding's time limit: RDKit calls the callback once per attempt, and a throw from it
/// unwinds the embedder (RAII throughout) back to berd_embed_smiles.
struct EmbedTimeout {};
thread_local std::chrono::steady_clock::time_point embedDeadline;
thread_local bool embedHasDeadline = false;
void checkDeadline(unsigned int) {
  if (embedHasDeadline && std::chrono::steady_clock::now() > embedDeadline) throw EmbedTimeout();
}

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

BERDEmbedding *berd_embed_smiles(const char *smiles, int32_t seed, int32_t conformers, int32_t mmff, int32_t attempts,
                                 double timeout_s) {
  auto *handle = new BERDEmbedding();
  try {
    if (smiles == nullptr || conformers < 1) {
      handle->error = "no SMILES or no conformer asked for";
      return handle;
    }
    std::unique_ptr<RDKit::RWMol> parsed(RDKit::SmilesToMol(std::string(smiles)));
    if (!parsed) {
      handle->error = "RDKit could not parse the SMILES";
      return handle;
    }
    if (parsed->getNumAtoms() == 0) {
      handle->error = "expected at least one atom, found an empty SMILES";
      return handle;
    }
    std::unique_ptr<RDKit::RWMol> mol(new RDKit::RWMol(*parsed));
    RDKit::MolOps::addHs(*mol);
    RDKit::DGeomHelpers::EmbedParameters params = RDKit::DGeomHelpers::ETKDGv3;
    params.randomSeed = seed;
    params.maxIterations = attempts > 0 ? static_cast<unsigned int>(attempts) : 0;
    params.numThreads = 1;
    embedHasDeadline = timeout_s > 0;
    if (embedHasDeadline) {
      embedDeadline = std::chrono::steady_clock::now() +
                      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeout_s));
      params.callback = checkDeadline;
    }
    RDKit::INT_VECT ids;
    try {
      RDKit::DGeomHelpers::EmbedMultipleConfs(*mol, ids, static_cast<unsigned int>(conformers), params);
    } catch (const EmbedTimeout &) {
      embedHasDeadline = false;
      handle->error = "no conformer within the time limit of " + std::to_string(timeout_s) + " s";
      return handle;
    }
    embedHasDeadline = false;
    if (mmff != 0 && !ids.empty()) {
      std::vector<std::pair<int, double>> results;
      // the Python wrapper's defaults (nonBondedThresh 100, not the C++ 10)
      RDKit::MMFF::MMFFOptimizeMoleculeConfs(*mol, results, 1, 200, "MMFF94", 100.0, true);
    }
    handle->ids = ids;
    handle->count = static_cast<int32_t>(ids.size());
    handle->mol = std::move(mol);
  } catch (const std::exception &e) {
    embedHasDeadline = false;
    handle->error = e.what();
    if (handle->error.empty()) handle->error = "RDKit raised an exception";
  } catch (...) {
    embedHasDeadline = false;
    handle->error = "RDKit raised an unknown exception";
  }
  return handle;
}

int32_t berd_embedding_count(const BERDEmbedding *embedding) { return embedding ? embedding->count : -1; }

const char *berd_embedding_error(const BERDEmbedding *embedding) { return embedding ? embedding->error.c_str() : "null handle"; }

const char *berd_embedding_molblock(BERDEmbedding *embedding, int32_t k) {
  if (!embedding || !embedding->mol || k < 0 || k >= embedding->count) return "";
  try {
    embedding->block = RDKit::MolToMolBlock(*embedding->mol, true, embedding->ids[k]);
  } catch (...) {
    embedding->block.clear();
  }
  return embedding->block.c_str();
}

void berd_embedding_free(BERDEmbedding *embedding) { delete embedding; }

}  // extern "C"
