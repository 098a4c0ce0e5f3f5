// extern "C" wrapper over RDKit 2022.09.3. Every entry point catches all C++ exceptions.
#include "CRDKitShim.h"

#include <GraphMol/FileParsers/FileParsers.h>
#include <GraphMol/GraphMol.h>
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
};

extern "C" {

const char *berd_rdkit_version(void) { return RDKit::rdkitVersion; }

void berd_set_rdkit_logging(int32_t enabled) {
  try {
    if (enabled) {
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
    RDKit::SmilesWriteParams params;
    params.doKekule = true;
    handle->smiles = RDKit::MolToSmiles(*mol, params);
    mol->getProp(RDKit::common_properties::_smilesAtomOutputOrder, handle->order);
    handle->mol = std::move(mol);
  } catch (const std::exception &e) {
    handle->error = e.what();
    if (handle->error.empty()) handle->error = "RDKit raised an exception";
  } catch (...) {
    handle->error = "RDKit raised an unknown exception";
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

void berd_mol_free(BERDMol *mol) { delete mol; }

}  // extern "C"
